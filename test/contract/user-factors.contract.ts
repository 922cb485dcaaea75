import { randomBytes } from 'node:crypto';
import { expect, test } from '@jest/globals';
import type { NewUser, PasskeyRecord, UserRepository } from '../../src/storage/ports.ts';

/**
 * The second factors every user store keeps (part of the user repository contract): an
 * authenticator app, recovery codes, passkeys looked up by credential id, and a reset of them all.
 */
export function describeUserFactorsContract(users: () => UserRepository, newUser: () => NewUser): void {
  const passkey = (userId: string, overrides: Partial<PasskeyRecord> = {}): PasskeyRecord => ({
    id: randomBytes(16).toString('base64url'),
    userId,
    userHandle: 'handle-of-the-user',
    publicKey: randomBytes(77).toString('base64url'),
    counter: 0,
    transports: ['internal', 'hybrid'],
    deviceType: 'multiDevice',
    backedUp: true,
    name: 'Laptop',
    createdAt: new Date(Math.floor(Date.now() / 1000) * 1000),
    ...overrides,
  });

  test('a new user has no second factor', async () => {
    const created = await users().create(newUser());
    expect(created.factors).toEqual({ recoveryCodes: [] });
    expect(await users().passkeysOf(created.id)).toEqual([]);
  });

  test('turns an authenticator app on and off', async () => {
    const created = await users().create(newUser());
    const totp = { sealedSecret: 'v1.kid.iv.tag.secret', createdAt: new Date(Math.floor(Date.now() / 1000) * 1000) };
    await users().setTotp(created.id, totp);
    expect((await users().findById(created.id))?.factors.totp).toEqual(totp);
    await users().setTotp(created.id, undefined);
    const off = await users().findById(created.id);
    expect(off?.factors.totp).toBeUndefined();
    expect(off?.factors).toEqual({ recoveryCodes: [] });
  });

  test('replaces recovery codes, and removes a used one, saying how many remain', async () => {
    const created = await users().create(newUser());
    await users().setRecoveryCodes(created.id, ['a', 'b', 'c']);
    expect((await users().findById(created.id))?.factors.recoveryCodes).toEqual(['a', 'b', 'c']);
    expect(await users().removeRecoveryCode(created.id, 'b')).toBe(2);
    expect(await users().removeRecoveryCode(created.id, 'b')).toBeUndefined();
    expect(await users().removeRecoveryCode(created.id, 'nope')).toBeUndefined();
    expect((await users().findById(created.id))?.factors.recoveryCodes).toEqual(['a', 'c']);
    await users().setRecoveryCodes(created.id, ['d']);
    expect(await users().removeRecoveryCode(created.id, 'a')).toBeUndefined();
    expect(await users().removeRecoveryCode(created.id, 'd')).toBe(0);
  });

  test('stores passkeys, finds one by credential id, lists a user’s oldest first', async () => {
    const owner = await users().create(newUser());
    const other = await users().create(newUser());
    const first = passkey(owner.id, { createdAt: new Date(Date.now() - 60_000 - (Date.now() % 1000)) });
    const second = passkey(owner.id, { name: 'Phone', deviceType: 'singleDevice', backedUp: false, transports: [] });
    await users().addPasskey(second);
    await users().addPasskey(first);
    await users().addPasskey(passkey(other.id));
    expect(await users().findPasskey(first.id)).toEqual(first);
    expect(await users().findPasskey('no-such-credential')).toBeUndefined();
    expect((await users().passkeysOf(owner.id)).map((each) => each.id)).toEqual([first.id, second.id]);
    await expect(users().addPasskey({ ...first, userId: other.id })).rejects.toThrow();
  });

  test('a sign-in must move a counting authenticator’s counter up; one that does not count stays at 0', async () => {
    const owner = await users().create(newUser());
    const counting = passkey(owner.id, { counter: 5 });
    const notCounting = passkey(owner.id);
    await users().addPasskey(counting);
    await users().addPasskey(notCounting);
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    expect(await users().recordPasskeyUse(counting.id, { counter: 6, backedUp: false, at })).toBe(true);
    expect(await users().findPasskey(counting.id)).toMatchObject({ counter: 6, backedUp: false, lastUsedAt: at });
    expect(await users().recordPasskeyUse(counting.id, { counter: 6, backedUp: false, at })).toBe(false);
    expect(await users().recordPasskeyUse(counting.id, { counter: 2, backedUp: false, at })).toBe(false);
    expect((await users().findPasskey(counting.id))?.counter).toBe(6);
    expect(await users().recordPasskeyUse(notCounting.id, { counter: 0, backedUp: true, at })).toBe(true);
    expect(await users().findPasskey(notCounting.id)).toMatchObject({ counter: 0, lastUsedAt: at });
    expect(await users().recordPasskeyUse('no-such-credential', { counter: 1, backedUp: true, at })).toBe(false);
  });

  test('renames and removes only the owner’s passkey', async () => {
    const owner = await users().create(newUser());
    const other = await users().create(newUser());
    const key = passkey(owner.id);
    await users().addPasskey(key);
    expect(await users().renamePasskey(other.id, key.id, 'Stolen')).toBe(false);
    expect(await users().renamePasskey(owner.id, key.id, 'Work laptop')).toBe(true);
    expect((await users().findPasskey(key.id))?.name).toBe('Work laptop');
    expect(await users().removePasskey(other.id, key.id)).toBe(false);
    expect(await users().removePasskey(owner.id, key.id)).toBe(true);
    expect(await users().removePasskey(owner.id, key.id)).toBe(false);
    expect(await users().findPasskey(key.id)).toBeUndefined();
  });

  test('a reset removes every second factor and passkey, and says what it removed', async () => {
    const owner = await users().create(newUser());
    const other = await users().create(newUser());
    await users().setTotp(owner.id, { sealedSecret: 'sealed', createdAt: new Date() });
    await users().setRecoveryCodes(owner.id, ['a', 'b']);
    await users().addPasskey(passkey(owner.id));
    await users().addPasskey(passkey(owner.id));
    const kept = passkey(other.id);
    await users().addPasskey(kept);
    expect(await users().resetFactors(owner.id)).toEqual({ totp: true, recoveryCodes: 2, passkeys: 2 });
    expect((await users().findById(owner.id))?.factors).toEqual({ recoveryCodes: [] });
    expect(await users().passkeysOf(owner.id)).toEqual([]);
    expect(await users().findPasskey(kept.id)).toEqual(kept);
    expect(await users().resetFactors(owner.id)).toEqual({ totp: false, recoveryCodes: 0, passkeys: 0 });
  });

  test('deleting a user deletes their passkeys', async () => {
    const owner = await users().create(newUser());
    const key = passkey(owner.id);
    await users().addPasskey(key);
    await users().delete(owner.id);
    expect(await users().findPasskey(key.id)).toBeUndefined();
  });
}
