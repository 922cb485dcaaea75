import { describe, expect, test } from '@jest/globals';
import { createLogger } from '../../../src/logging/create-logger.ts';
import { createMemoryTokenStore } from '../../../src/storage/memory/memory-token-store.ts';
import { createMemoryUserRepository } from '../../../src/storage/memory/memory-user-repository.ts';
import { createPasskeys } from '../../../src/users/mfa/passkeys.ts';
import { SoftwareAuthenticator } from '../../support/software-authenticator.ts';

/** The server's side of a passkey sign-in, with a passkey held in software (no browser needed). */
describe('passkey sign-in without a username (WebAuthn §7.2)', () => {
  const issuer = 'https://id.example.com';
  const setup = async () => {
    const users = createMemoryUserRepository();
    const passkeys = createPasskeys({
      users,
      tokens: createMemoryTokenStore(),
      issuer,
      productName: 'Acme ID',
      logger: createLogger('silent'),
    });
    const user = await users.create({ username: 'ada', usernameKey: 'ada', email: 'ada@example.com', passwordHash: 'x' });
    const authenticator = new SoftwareAuthenticator();
    const userHandle = 'aGFuZGxlLW9mLWFkYQ';
    await users.addPasskey({
      id: authenticator.credentialId,
      userId: user.id,
      userHandle,
      publicKey: authenticator.publicKey(),
      counter: 0,
      transports: ['internal'],
      deviceType: 'singleDevice',
      backedUp: false,
      name: 'Laptop',
      createdAt: new Date(),
    });
    /** Asks for options under a ceremony of its own, and answers them with the software passkey. */
    const signIn = async (answerUserHandle: string | undefined) => {
      const ceremony = `interaction-${Math.random()}`;
      const { challenge } = await passkeys.authenticationOptions(ceremony);
      const answer = authenticator.assert({ challenge, origin: issuer, rpId: 'id.example.com', userHandle: answerUserHandle });
      return passkeys.authenticate(ceremony, answer);
    };
    return { user, userHandle, signIn };
  };

  test("the user handle is required and must be the credential's own", async () => {
    const { user, userHandle, signIn } = await setup();
    expect(await signIn(undefined)).toEqual({ ok: false, reason: 'invalid' });
    expect(await signIn('c29tZW9uZS1lbHNl')).toEqual({ ok: false, reason: 'invalid' });
    expect(await signIn(userHandle)).toMatchObject({ ok: true, user: { id: user.id }, amr: ['hwk', 'user'] });
  });
});
