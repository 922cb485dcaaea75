import { describe, expect, test } from '@jest/globals';
import { useTestApp } from '../support/app-fixture.ts';
import { allowConsent, authorizeAs, newAccount, openAuthorization, rpClient, signInFrom } from '../support/relying-party.ts';
import { expectPage, UserAgent } from '../support/user-agent.ts';

const CLAIM_SCOPES = { profile: ['department'], org: ['employee_id', 'https://example.com/roles'] };

/** Groups and extra claims, released by their scopes in the ID token and userinfo (real Redis and MongoDB). */
describe('groups and extra claims', () => {
  const client = rpClient({ client_id: 'claims-app' });
  const app = useTestApp('e2e-claims', {
    clients: () => [client],
    relyingParty: client,
    env: { IDP_CLAIM_SCOPES: JSON.stringify(CLAIM_SCOPES) },
  });

  const createUser = async (label: string) => {
    const account = newAccount(label);
    const { user } = await app.server.users.admin.create({
      ...account,
      verified: true,
      groups: ['admins', 'staff'],
      claims: { department: 'engineering', employee_id: 4711, 'https://example.com/roles': ['reader', 'writer'], secret: 'never released' },
    });
    return { account, user };
  };

  test('discovery lists the groups scope, the scope of extra claims, and the claims', async () => {
    const metadata = app.rp.config.serverMetadata();
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['groups', 'org']));
    expect(metadata.claims_supported).toEqual(expect.arrayContaining(['groups', 'department', 'employee_id', 'https://example.com/roles']));
    expect(metadata.claims_supported).not.toContain('secret');
  });

  test('each scope releases its claims in the ID token and in userinfo; the consent page names them', async () => {
    const { account, user } = await createUser('grouped');
    const authorization = await app.rp.authorize({ scope: 'openid profile groups org' });
    const agent = new UserAgent();
    const consent = expectPage(await signInFrom(agent, await openAuthorization(agent, authorization), account.username, account.password));
    const permissions = consent
      .$('main li')
      .map((_index, item) => consent.$(item).text().trim())
      .get();
    expect(permissions).toEqual(
      expect.arrayContaining([
        'See your name and username, and your department',
        'See the groups you belong to',
        'See your employee_id, https://example.com/roles',
      ]),
    );
    const tokens = await app.rp.exchange(authorization, await allowConsent(agent, consent));
    const expected = {
      sub: user.id,
      groups: ['admins', 'staff'],
      department: 'engineering',
      employee_id: 4711,
      'https://example.com/roles': ['reader', 'writer'],
    };
    const idToken = tokens.claims();
    expect(idToken).toMatchObject(expected);
    expect(idToken).not.toHaveProperty('secret');
    const userinfo = await app.rp.userinfo(tokens.access_token, user.id);
    expect(userinfo).toMatchObject(expected);
    expect(userinfo).not.toHaveProperty('secret');
  });

  test('without their scopes, neither groups nor extra claims are released', async () => {
    const { account, user } = await createUser('plain');
    const authorization = await app.rp.authorize({ scope: 'openid email' });
    const { callback } = await authorizeAs(new UserAgent(), authorization.url, { login: account.username, password: account.password });
    const tokens = await app.rp.exchange(authorization, callback);
    for (const claims of [tokens.claims(), await app.rp.userinfo(tokens.access_token, user.id)]) {
      expect(claims).toMatchObject({ sub: user.id, email: account.email });
      for (const claim of ['groups', 'department', 'employee_id', 'https://example.com/roles', 'preferred_username'])
        expect(claims).not.toHaveProperty([claim]);
    }
  });

  test('a change of groups or claims shows in the next userinfo answer', async () => {
    const { account, user } = await createUser('changed');
    const authorization = await app.rp.authorize({ scope: 'openid profile groups' });
    const { callback } = await authorizeAs(new UserAgent(), authorization.url, { login: account.username, password: account.password });
    const tokens = await app.rp.exchange(authorization, callback);
    await app.server.users.admin.addGroups(user.id, ['ops']);
    await app.server.users.admin.removeGroups(user.id, ['admins']);
    await app.server.users.admin.updateClaims(user.id, { set: { department: 'research' } });
    expect(await app.rp.userinfo(tokens.access_token, user.id)).toMatchObject({ groups: ['staff', 'ops'], department: 'research' });
  });
});
