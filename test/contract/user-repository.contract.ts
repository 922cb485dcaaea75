import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { DuplicateLinkError, DuplicateUserError, type NewUser, type UserRepository } from '../../src/storage/ports.ts';
import { sleep } from '../support/eventually.ts';
import { describeUserFactorsContract } from './user-factors.contract.ts';

export interface RepositoryUnderTest {
  users: UserRepository;
  close(): Promise<void>;
}

let counter = 0;
function newUser(overrides: Partial<NewUser> = {}): NewUser {
  counter += 1;
  const username = `User${counter}`;
  return {
    username,
    usernameKey: username.toLowerCase(),
    email: `user${counter}@example.com`,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g',
    ...overrides,
  };
}

/** One suite for every user store: stable ids, lookups, and uniqueness enforced by the store itself. */
export function describeUserRepositoryContract(name: string, open: () => Promise<RepositoryUnderTest>): void {
  describe(`user repository contract: ${name}`, () => {
    let underTest: RepositoryUnderTest;
    let users: UserRepository;
    beforeAll(async () => {
      underTest = await open();
      users = underTest.users;
    });
    afterAll(() => underTest.close());

    test('creates a user with a stable id, defaults and timestamps', async () => {
      const input = newUser();
      const created = await users.create(input);
      expect(created).toMatchObject({ ...input, emailVerified: false, active: true });
      expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.createdAt).toBeInstanceOf(Date);
      expect(created.updatedAt).toBeInstanceOf(Date);
      expect(await users.findById(created.id)).toEqual(created);
    });

    test('finds by username key and by email, and not by anything else', async () => {
      const created = await users.create(newUser());
      expect((await users.findByUsernameKey(created.usernameKey))?.id).toBe(created.id);
      expect((await users.findByEmail(created.email))?.id).toBe(created.id);
      expect(await users.findByUsernameKey('nobody')).toBeUndefined();
      expect(await users.findByEmail('nobody@example.com')).toBeUndefined();
      expect(await users.findById('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    });

    test('refuses a second user with the same username key or email, naming the field', async () => {
      const first = await users.create(newUser());
      await expect(users.create(newUser({ usernameKey: first.usernameKey }))).rejects.toMatchObject({ fields: ['username'] });
      await expect(users.create(newUser({ email: first.email }))).rejects.toMatchObject({ fields: ['email'] });
      const both = users.create(newUser({ usernameKey: first.usernameKey, email: first.email }));
      await expect(both).rejects.toBeInstanceOf(DuplicateUserError);
      await expect(both).rejects.toMatchObject({ fields: ['username', 'email'] });
    });

    test('of concurrent registrations with one email, exactly one succeeds', async () => {
      const email = `race${Date.now()}@example.com`;
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => users.create(newUser({ email }))));
      const created = results.filter((result) => result.status === 'fulfilled');
      const refused = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
      expect(created).toHaveLength(1);
      expect(refused).toHaveLength(7);
      for (const result of refused) expect(result.reason).toBeInstanceOf(DuplicateUserError);
    });

    test('disables and enables a user', async () => {
      const created = await users.create(newUser());
      await users.setActive(created.id, false);
      expect((await users.findById(created.id))?.active).toBe(false);
      await users.setActive(created.id, true);
      expect((await users.findById(created.id))?.active).toBe(true);
    });

    test('sets and removes the full name, and the change moves updatedAt', async () => {
      const created = await users.create(newUser());
      expect(created.name).toBeUndefined();
      await sleep(5);
      await users.setName(created.id, 'Grace Hopper');
      const named = await users.findById(created.id);
      expect(named?.name).toBe('Grace Hopper');
      expect(named?.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());
      await users.setName(created.id, undefined);
      const unnamed = await users.findById(created.id);
      expect(unnamed).toBeDefined();
      expect(unnamed?.name).toBeUndefined();
      expect('name' in (unnamed ?? {})).toBe(false);
    });

    test("marks an email verified only while it is still the user's email", async () => {
      const created = await users.create(newUser());
      expect(await users.markEmailVerified(created.id, 'other@example.com')).toBe(false);
      expect((await users.findById(created.id))?.emailVerified).toBe(false);
      expect(await users.markEmailVerified(created.id, created.email)).toBe(true);
      expect((await users.findById(created.id))?.emailVerified).toBe(true);
    });

    test('updates the profile; a new email is unverified; taken values are refused by field', async () => {
      const created = await users.create(newUser());
      await users.markEmailVerified(created.id, created.email);
      const renamed = await users.updateProfile(created.id, {
        username: 'Renamed1',
        usernameKey: `renamed${created.id}`,
        email: created.email,
      });
      expect(renamed).toMatchObject({ username: 'Renamed1', emailVerified: true });
      const moved = await users.updateProfile(created.id, {
        username: 'Renamed1',
        usernameKey: `renamed${created.id}`,
        email: `moved${created.id}@example.com`,
      });
      expect(moved).toMatchObject({ email: `moved${created.id}@example.com`, emailVerified: false });
      const other = await users.create(newUser());
      await expect(
        users.updateProfile(created.id, { username: 'x', usernameKey: other.usernameKey, email: moved.email }),
      ).rejects.toMatchObject({ fields: ['username'] });
      await expect(
        users.updateProfile(created.id, { username: 'Renamed1', usernameKey: `renamed${created.id}`, email: other.email }),
      ).rejects.toMatchObject({ fields: ['email'] });
    });

    test('lists with search and paging, and deletes', async () => {
      const tag = `list${Date.now()}`;
      const created = [];
      for (let index = 0; index < 3; index += 1) {
        created.push(await users.create(newUser({ email: `${tag}-${index}@example.com` })));
        await sleep(5);
      }
      const firstPage = await users.list({ search: tag.toUpperCase(), skip: 0, limit: 2 });
      expect(firstPage.total).toBe(3);
      expect(firstPage.users.map((user) => user.id)).toEqual([created[0]?.id, created[1]?.id]);
      const secondPage = await users.list({ search: tag, skip: 2, limit: 2 });
      expect(secondPage.users.map((user) => user.id)).toEqual([created[2]?.id]);
      expect((await users.list({ search: 'a.b(c', skip: 0, limit: 5 })).total).toBe(0); // search is literal text
      expect(await users.delete(created[0]?.id ?? '')).toBe(true);
      expect(await users.delete(created[0]?.id ?? '')).toBe(false);
      expect(await users.findById(created[0]?.id ?? '')).toBeUndefined();
    });

    test('a new user has no groups and no extra claims; create may give them, with the name and verification', async () => {
      const plain = await users.create(newUser());
      expect(plain).toMatchObject({ groups: [], claims: {} });
      const claims = { department: 'engineering', 'https://example.com/roles': ['a', 'b'], $weird: { level: 3, on: true } };
      const seeded = await users.create(newUser({ groups: ['admins', 'staff'], claims, name: 'Alice Example', emailVerified: true }));
      expect(await users.findById(seeded.id)).toMatchObject({
        groups: ['admins', 'staff'],
        claims,
        name: 'Alice Example',
        emailVerified: true,
      });
    });

    test('adds groups once each, in order, and removes them; an unknown user is reported', async () => {
      const created = await users.create(newUser());
      expect(await users.addGroups(created.id, ['staff', 'admins'])).toBe(true);
      expect(await users.addGroups(created.id, ['admins', 'ops'])).toBe(true);
      expect((await users.findById(created.id))?.groups).toEqual(['staff', 'admins', 'ops']);
      expect(await users.removeGroups(created.id, ['staff', 'ops', 'never'])).toBe(true);
      expect((await users.findById(created.id))?.groups).toEqual(['admins']);
      const unknown = '00000000-0000-4000-8000-000000000000';
      expect(await users.addGroups(unknown, ['x'])).toBe(false);
      expect(await users.removeGroups(unknown, ['x'])).toBe(false);
    });

    test('sets and removes extra claims by name, keeping the others', async () => {
      const created = await users.create(newUser({ claims: { keep: 'me', drop: 1, other: true } }));
      expect(await users.updateClaims(created.id, { set: { 'a.b': { deep: [1, 'two'] }, keep: 'changed' }, remove: ['drop'] })).toBe(true);
      expect((await users.findById(created.id))?.claims).toEqual({ keep: 'changed', other: true, 'a.b': { deep: [1, 'two'] } });
      expect(await users.updateClaims(created.id, { remove: ['a.b', 'never'] })).toBe(true);
      expect((await users.findById(created.id))?.claims).toEqual({ keep: 'changed', other: true });
      expect(await users.updateClaims('00000000-0000-4000-8000-000000000000', { set: { x: 1 } })).toBe(false);
    });

    test('updates the password hash', async () => {
      const created = await users.create(newUser());
      await users.updatePasswordHash(created.id, '$argon2id$new');
      expect((await users.findById(created.id))?.passwordHash).toBe('$argon2id$new');
    });

    describeUserFactorsContract(() => users, newUser);
    describe('links to upstream identities', () => {
      let linkCounter = 0;
      const identity = (issuer = 'https://upstream.example.com') => {
        linkCounter += 1;
        return { issuer, subject: `subject-${linkCounter}-${Date.now()}`, upstream: 'example', label: `person${linkCounter}@example.com` };
      };

      test('a user without a password is stored without one', async () => {
        const { passwordHash: _none, ...input } = newUser();
        const created = await users.create(input);
        expect(created.passwordHash).toBeUndefined();
        expect((await users.findById(created.id))?.passwordHash).toBeUndefined();
      });

      test('links an identity, finds the user by it, lists the links oldest first', async () => {
        const user = await users.create(newUser());
        const first = identity();
        const second = identity('https://other.example.com');
        const stored = await users.addLink(user.id, first);
        expect(stored).toMatchObject(first);
        expect(stored.linkedAt).toBeInstanceOf(Date);
        await sleep(5);
        await users.addLink(user.id, second);
        expect((await users.findByLink(first.issuer, first.subject))?.id).toBe(user.id);
        expect((await users.findByLink(second.issuer, second.subject))?.id).toBe(user.id);
        expect(await users.findByLink(first.issuer, second.subject)).toBeUndefined();
        expect(await users.findByLink('https://nobody.example.com', first.subject)).toBeUndefined();
        const links = await users.linksOf(user.id);
        expect(links.map((link) => link.issuer)).toEqual([first.issuer, second.issuer]);
        expect(links[0]).toMatchObject({ subject: first.subject, upstream: 'example', label: first.label });
      });

      test('an identity belongs to one user: a second link is refused, and of concurrent ones exactly one wins', async () => {
        const [a, b] = [await users.create(newUser()), await users.create(newUser())];
        const taken = identity();
        await users.addLink(a.id, taken);
        await expect(users.addLink(b.id, taken)).rejects.toBeInstanceOf(DuplicateLinkError);
        await expect(users.addLink(a.id, taken)).rejects.toBeInstanceOf(DuplicateLinkError);
        const raced = identity();
        const contenders = await Promise.all(Array.from({ length: 6 }, () => users.create(newUser())));
        const results = await Promise.allSettled(contenders.map((user) => users.addLink(user.id, raced)));
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        for (const result of results) if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(DuplicateLinkError);
        const owner = await users.findByLink(raced.issuer, raced.subject);
        const winner = contenders[results.findIndex((result) => result.status === 'fulfilled')];
        expect(owner?.id).toBe(winner?.id);
        for (const user of contenders) expect((await users.linksOf(user.id)).length).toBe(user.id === winner?.id ? 1 : 0);
      });

      test('a link to a user that does not exist is refused', async () => {
        await expect(users.addLink('00000000-0000-4000-8000-000000000000', identity())).rejects.toMatchObject({ code: 'not_found' });
      });

      test('removes a link; without a password the last one stays, even when two removals race', async () => {
        const { passwordHash: _none, ...input } = newUser();
        const user = await users.create(input);
        const [one, two] = [identity(), identity('https://second.example.com')];
        await users.addLink(user.id, one);
        await users.addLink(user.id, two);
        const raced = await Promise.all([
          users.removeLink(user.id, one, { keepOneWayIn: true }),
          users.removeLink(user.id, two, { keepOneWayIn: true }),
        ]);
        expect([...raced].sort()).toEqual(['last_way_in', 'removed']);
        const [left] = await users.linksOf(user.id);
        expect(left).toBeDefined();
        expect(await users.removeLink(user.id, left ?? one, { keepOneWayIn: true })).toBe('last_way_in');
        expect(await users.linksOf(user.id)).toHaveLength(1);
        expect(await users.removeLink(user.id, identity())).toBe('not_found');
        // The removed identity is free again: it may be linked to someone else.
        const removed = raced[0] === 'removed' ? one : two;
        expect(await users.findByLink(removed.issuer, removed.subject)).toBeUndefined();
        const other = await users.create(newUser());
        await users.addLink(other.id, removed);
        expect((await users.findByLink(removed.issuer, removed.subject))?.id).toBe(other.id);
      });

      test('with a password, the last link may go; another user cannot remove it', async () => {
        const user = await users.create(newUser());
        const only = identity();
        await users.addLink(user.id, only);
        const stranger = await users.create(newUser());
        expect(await users.removeLink(stranger.id, only)).toBe('not_found');
        expect(await users.removeLink(user.id, only, { keepOneWayIn: true })).toBe('removed');
        expect(await users.linksOf(user.id)).toEqual([]);
      });

      test('deleting a user frees its identities', async () => {
        const user = await users.create(newUser());
        const linked = identity();
        await users.addLink(user.id, linked);
        await users.delete(user.id);
        expect(await users.findByLink(linked.issuer, linked.subject)).toBeUndefined();
        const next = await users.create(newUser());
        await users.addLink(next.id, linked);
        expect((await users.findByLink(linked.issuer, linked.subject))?.id).toBe(next.id);
      });
    });
  });
}
