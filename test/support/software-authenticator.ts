import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

/**
 * A passkey held in software, for tests that check the server's side of a WebAuthn assertion without
 * a browser: a P-256 key (ES256), its COSE public key as the server stores it, and assertions signed
 * as an authenticator signs them (WebAuthn §6.3.3: authenticator data, then the hash of the client
 * data). The browser tests use Chromium's virtual authenticator instead.
 */
export class SoftwareAuthenticator {
  readonly credentialId = randomBytes(16).toString('base64url');
  private readonly keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  private counter = 0;
  /** The user handle the relying party gave at registration (WebAuthn §5.4.3), sent back with each assertion. */
  private userHandle: string | undefined;

  /**
   * A registration response (attestation `none`, WebAuthn §8.7) for creation options as the server
   * sent them: a resident key with user presence and verification, bound to this device (not backed up).
   */
  create(options: { challenge: string; user: { id: string }; rp: { id?: string } }, origin: string) {
    const rpId = options.rp.id ?? new URL(origin).hostname;
    this.userHandle = options.user.id;
    const id = Buffer.from(this.credentialId, 'base64url');
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(id.length);
    // Flags: UP (0x01), UV (0x04), AT (0x40, attested credential data follows); counter 0; AAGUID zero.
    const authData = Buffer.concat([
      createHash('sha256').update(rpId).digest(),
      Buffer.from([0x45]),
      Buffer.alloc(4),
      Buffer.alloc(16),
      idLength,
      id,
      Buffer.from(this.publicKey(), 'base64url'),
    ]);
    const attestation = new Map<string, string | Uint8Array | Map<string, string>>();
    attestation.set('fmt', 'none');
    attestation.set('attStmt', new Map<string, string>());
    attestation.set('authData', new Uint8Array(authData));
    const attestationObject = isoCBOR.encode(attestation);
    const clientDataJSON = Buffer.from(
      JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin, crossOrigin: false }),
    );
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        attestationObject: Buffer.from(attestationObject).toString('base64url'),
        transports: ['internal'],
      },
    };
  }

  /** The COSE_Key (RFC 9053 §7.1: kty EC2, alg ES256, crv P-256, x, y), base64url, as PasskeyRecord.publicKey. */
  publicKey(): string {
    const jwk = this.keys.publicKey.export({ format: 'jwk' });
    const cose = new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, Buffer.from(jwk.x ?? '', 'base64url')],
      [-3, Buffer.from(jwk.y ?? '', 'base64url')],
    ]);
    return Buffer.from(isoCBOR.encode(cose)).toString('base64url');
  }

  /**
   * An assertion for `challenge` at `origin`, with user presence and verification, and the user
   * handle: `userHandle` when given, else the one of the registration (none when `null`).
   */
  assert({
    challenge,
    origin,
    rpId = new URL(origin).hostname,
    userHandle = this.userHandle,
  }: {
    challenge: string;
    origin: string;
    rpId?: string;
    userHandle?: string | undefined;
  }) {
    this.counter += 1;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.counter);
    // Flags: UP (0x01) and UV (0x04).
    const authenticatorData = Buffer.concat([createHash('sha256').update(rpId).digest(), Buffer.from([0x05]), counter]);
    const clientDataJSON = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge, origin, crossOrigin: false }));
    const signature = sign(
      'sha256',
      Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJSON).digest()]),
      this.keys.privateKey,
    );
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      clientExtensionResults: {},
      response: {
        clientDataJSON: clientDataJSON.toString('base64url'),
        authenticatorData: authenticatorData.toString('base64url'),
        signature: signature.toString('base64url'),
        ...(userHandle ? { userHandle } : {}),
      },
    };
  }
}
