import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { Logger } from 'pino';
import { z } from 'zod';
import { sha256Base64url } from '../../digest.ts';
import type { OneTimeTokenStore, PasskeyRecord, UserRecord, UserRepository } from '../../storage/ports.ts';

/** How long a ceremony may take, from the options to the browser's answer (WebAuthn's own timeout is 5 min too). */
const CHALLENGE_TTL = 300;
const NAME_MAX = 60;

export type PasskeySignIn =
  | { ok: true; user: UserRecord; passkey: PasskeyRecord; amr: string[] }
  | { ok: false; reason: 'invalid' | 'unknown_credential' | 'counter' };

export interface Passkeys {
  /**
   * False when ISSUER's host is an IP address: a WebAuthn relying party id must be a domain name
   * (WebAuthn §5.1.4.1 via the HTML "registrable domain suffix" rules), so browsers refuse every ceremony.
   */
  readonly available: boolean;
  /** For a person adding a passkey; the challenge is kept under `ceremony` (an interaction or a session). */
  registrationOptions(user: UserRecord, ceremony: string): Promise<PublicKeyCredentialCreationOptionsJSON>;
  register(user: UserRecord, ceremony: string, response: unknown, name: string): Promise<PasskeyRecord | undefined>;
  /** For a sign-in: any passkey of this site (discoverable), or only those of `userId` (a second step). */
  authenticationOptions(ceremony: string, userId?: string): Promise<PublicKeyCredentialRequestOptionsJSON>;
  authenticate(ceremony: string, response: unknown, userId?: string): Promise<PasskeySignIn>;
  /** The person's passkeys, oldest first. */
  list(userId: string): Promise<PasskeyRecord[]>;
  /** Removes one of the person's passkeys; returns it, or undefined when they have no such passkey. */
  remove(userId: string, credentialId: string): Promise<PasskeyRecord | undefined>;
}

/** The shape of a browser's answer, checked before the library reads it (validate at the edge). */
const base64url = z
  .string()
  .regex(/^[A-Za-z0-9_-]*$/)
  .max(16_384);
const credential = <T extends z.ZodRawShape>(response: T) =>
  z.object({
    id: base64url.min(1),
    rawId: base64url.min(1),
    type: z.literal('public-key'),
    authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
    clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
    response: z.object(response).loose(),
  });
const registrationResponse = credential({
  clientDataJSON: base64url,
  attestationObject: base64url,
  transports: z.array(z.string().max(32)).max(10).optional(),
});
const authenticationResponse = credential({
  clientDataJSON: base64url,
  authenticatorData: base64url,
  signature: base64url,
  userHandle: base64url.optional(),
});

/**
 * RFC 8176 methods of a passkey: a key bound to one device is hardware-secured (`hwk`); a synced
 * passkey is a key held in software (`swk`). User verification is required, and `user` says a person
 * was present and verified at the device.
 */
export function passkeyMethods(passkey: Pick<PasskeyRecord, 'deviceType'>): string[] {
  return [passkey.deviceType === 'singleDevice' ? 'hwk' : 'swk', 'user'];
}

function parseJson<T>(schema: z.ZodType<T>, value: unknown): T | undefined {
  try {
    const parsed = schema.safeParse(typeof value === 'string' ? JSON.parse(value) : value);
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * WebAuthn through @simplewebauthn/server. The relying party is this server: its id is the issuer's
 * host name and the only origin accepted is the issuer's. Attestation `none` (we do not restrict
 * authenticator models, as the passkey guidance advises); user verification required, so a passkey
 * is possession plus the device's PIN or biometric (WebAuthn §6.2.3). Discoverable credentials
 * (resident keys), so a sign-in needs no username. Counters and backup flags are stored and checked.
 * @see https://simplewebauthn.dev/docs/packages/server
 */
export function createPasskeys({
  users,
  tokens,
  issuer,
  productName,
  logger,
}: {
  users: UserRepository;
  tokens: OneTimeTokenStore;
  issuer: string;
  productName: string;
  logger: Logger;
}): Passkeys {
  const { hostname: rpID, origin } = new URL(issuer);
  const key = (ceremony: string) => sha256Base64url(ceremony);

  return {
    available: isIP(rpID.replace(/^\[|\]$/g, '')) === 0,
    async registrationOptions(user, ceremony) {
      const existing = await users.passkeysOf(user.id);
      // One user handle per person for every passkey (WebAuthn §5.4.3): random, never the user id.
      const userHandle = existing[0]?.userHandle ?? randomBytes(32).toString('base64url');
      const options = await generateRegistrationOptions({
        rpName: productName,
        rpID,
        userName: user.username,
        userDisplayName: user.name ?? user.username,
        userID: Buffer.from(userHandle, 'base64url'),
        attestationType: 'none',
        excludeCredentials: existing.map((passkey) => ({ id: passkey.id, transports: passkey.transports })),
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      });
      await tokens.save('passkey-register', key(ceremony), { challenge: options.challenge, userId: user.id, userHandle }, CHALLENGE_TTL);
      return options;
    },

    async register(user, ceremony, response, name) {
      const pending = await tokens.consume('passkey-register', key(ceremony));
      const answer = parseJson(registrationResponse, response) as RegistrationResponseJSON | undefined;
      if (!pending?.challenge || pending.userId !== user.id || !pending.userHandle || !answer) return undefined;
      const verified = await verifyRegistrationResponse({
        response: answer,
        expectedChallenge: pending.challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        requireUserVerification: true,
      }).catch((error: unknown) => {
        logger.warn({ event: 'passkey.registration_refused', userId: user.id, reason: (error as Error).message }, 'passkey refused');
        return undefined;
      });
      if (!verified?.verified) return undefined;
      const { credential: created, credentialDeviceType, credentialBackedUp } = verified.registrationInfo;
      if (await users.findPasskey(created.id)) return undefined;
      const count = (await users.passkeysOf(user.id)).length;
      const passkey: PasskeyRecord = {
        id: created.id,
        userId: user.id,
        userHandle: pending.userHandle,
        publicKey: Buffer.from(created.publicKey).toString('base64url'),
        counter: created.counter,
        transports: created.transports ?? answer.response.transports ?? [],
        deviceType: credentialDeviceType,
        backedUp: credentialBackedUp,
        name:
          name
            .replace(/\p{Cc}/gu, '')
            .trim()
            .slice(0, NAME_MAX) || `Passkey ${count + 1}`,
        createdAt: new Date(),
      };
      await users.addPasskey(passkey);
      logger.info({ event: 'passkey.registered', userId: user.id, deviceType: credentialDeviceType }, 'passkey added');
      return passkey;
    },

    async authenticationOptions(ceremony, userId) {
      const allowed = userId ? await users.passkeysOf(userId) : [];
      const options = await generateAuthenticationOptions({
        rpID,
        allowCredentials: allowed.map((passkey) => ({ id: passkey.id, transports: passkey.transports })),
        userVerification: 'required',
      });
      await tokens.save('passkey-signin', key(ceremony), { challenge: options.challenge, ...(userId ? { userId } : {}) }, CHALLENGE_TTL);
      return options;
    },

    async authenticate(ceremony, response, userId) {
      const pending = await tokens.consume('passkey-signin', key(ceremony));
      const answer = parseJson(authenticationResponse, response) as AuthenticationResponseJSON | undefined;
      if (!pending?.challenge || pending.userId !== userId || !answer) return { ok: false, reason: 'invalid' };
      const passkey = await users.findPasskey(answer.id);
      // A passkey deleted here (removed, or reset by an administrator) may live on in the authenticator.
      if (!passkey || (userId !== undefined && passkey.userId !== userId)) return { ok: false, reason: 'unknown_credential' };
      if (answer.response.userHandle !== undefined && answer.response.userHandle !== passkey.userHandle) {
        return { ok: false, reason: 'invalid' };
      }
      const verified = await verifyAuthenticationResponse({
        response: answer,
        expectedChallenge: pending.challenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        credential: {
          id: passkey.id,
          publicKey: Buffer.from(passkey.publicKey, 'base64url'),
          counter: passkey.counter,
          transports: passkey.transports,
        },
        requireUserVerification: true,
      }).catch((error: unknown) => {
        logger.warn({ event: 'passkey.signin_refused', userId: passkey.userId, reason: (error as Error).message }, 'passkey refused');
        return undefined;
      });
      if (!verified?.verified) return { ok: false, reason: 'invalid' };
      const { newCounter, credentialBackedUp } = verified.authenticationInfo;
      if (!(await users.recordPasskeyUse(passkey.id, { counter: newCounter, backedUp: credentialBackedUp, at: new Date() }))) {
        logger.warn({ event: 'passkey.counter_not_increased', userId: passkey.userId }, 'passkey counter did not go up: a clone?');
        return { ok: false, reason: 'counter' };
      }
      const user = await users.findById(passkey.userId);
      if (!user) return { ok: false, reason: 'unknown_credential' };
      return { ok: true, user, passkey, amr: passkeyMethods(passkey) };
    },

    list: (userId) => users.passkeysOf(userId),
    async remove(userId, credentialId) {
      const passkey = await users.findPasskey(credentialId);
      if (passkey?.userId !== userId || !(await users.removePasskey(userId, credentialId))) return undefined;
      logger.info({ event: 'passkey.removed', userId }, 'passkey removed');
      return passkey;
    },
  };
}
