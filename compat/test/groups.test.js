'use strict';
// Frontegg's browser SDK, @frontegg/rest-api, managing user groups as a signed-in tenant admin:
// every call of its `groups` module, and `users.getUsersGroups`, against sigil.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startSigil } = require('../lib/sigil');
const { admin } = require('../lib/admin');
const { installBrowser } = require('../lib/browser');

const APP_ORIGIN = 'http://127.0.0.1:5173';
const PASSWORD = 'Correct-horse-battery-7';

let sigil;
let setup;
let sdk;

before(async () => {
  sigil = await startSigil({ env: { SIGIL_CORS_ORIGINS: APP_ORIGIN } });
  setup = await admin(sigil);
  await setup.createTenant('acme', 'Acme');
  installBrowser(`${APP_ORIGIN}/admin-box`);
  sdk = require('@frontegg/rest-api');
});

after(async () => {
  setup?.close();
  await sigil?.stop();
});

test("a tenant admin manages its tenant's groups through the SDK's groups module", async () => {
  sdk.ContextHolder.for('groups').setContext({ baseUrl: sigil.httpUrl, requestCredentials: 'include' });
  sdk.ContextHolder.for('groups').setSessionContext({ skipUserLoading: true });
  const api = sdk.createApiClient('groups');
  // The tenant's first member is its admin.
  const ann = await setup.createUser('acme', 'ann@example.com', PASSWORD);
  const bob = await setup.createUser('acme', 'bob@example.com', PASSWORD);
  await api.auth.login({ email: 'ann@example.com', password: PASSWORD });

  const created = await api.groups.createGroup({ name: 'Ops', color: '#0af', metadata: '{"floor":3}' });
  assert.equal(created.name, 'Ops');
  assert.equal(created.managedBy, sdk.GroupManagedByEnum.FRONTEGG);
  await assert.rejects(
    api.groups.createGroup({ name: 'Ops' }),
    (error) => error instanceof sdk.FronteggApiError && error.statusCode === 409,
  );

  const readOnly = (await api.roles.getRoles()).find((role) => role.key === 'ReadOnly');
  await api.groups.addUsersToGroup(created.id, { userIds: [ann.id, bob.id] });
  await api.groups.addRolesToGroup(created.id, { roleIds: [readOnly.id] });
  await assert.rejects(
    api.groups.addUsersToGroup(created.id, { userIds: ['no-such-user'] }),
    (error) => error.statusCode === 400,
  );

  const { groups } = await api.groups.getGroups({ _groupsRelations: sdk.GroupRelations.rolesAndUsers });
  assert.equal(groups.length, 1);
  assert.deepEqual(groups[0].users.map((u) => u.email).sort(), ['ann@example.com', 'bob@example.com']);
  assert.deepEqual(groups[0].roles.map((r) => r.key), ['ReadOnly']);
  const one = await api.groups.getGroupById({ groupId: created.id }, { _groupsRelations: sdk.GroupRelations.users });
  assert.equal(one.users.length, 2);
  assert.deepEqual(one.roles, []);
  const some = await api.groups.getGroupsByIds({ groupsIds: [created.id, 'no-such-group'] });
  assert.deepEqual(some.groups.map((g) => g.id), [created.id]);
  const updated = await api.groups.updateGroup({ groupId: created.id, description: 'Operations' });
  assert.equal(updated.description, 'Operations');
  assert.equal(updated.color, '#0af');

  const usersGroups = await api.users.getUsersGroups({ ids: [bob.id] });
  assert.equal(usersGroups.length, 1);
  assert.equal(usersGroups[0].userId, bob.id);
  assert.deepEqual(usersGroups[0].groupIds, [created.id]);

  await api.groups.deleteUsersFromGroup(created.id, { userIds: [bob.id] });
  await api.groups.deleteRolesFromGroup(created.id, { roleIds: [readOnly.id] });
  const after = await api.groups.getGroupById({ groupId: created.id }, { _groupsRelations: 'rolesAndUsers' });
  assert.deepEqual(after.users.map((u) => u.id), [ann.id]);
  assert.deepEqual(after.roles, []);

  const configuration = await api.groups.getGroupConfiguration();
  assert.deepEqual(configuration, { enabled: true, rolesEnabled: true });
  // Changing it is the environment's: a user token is refused.
  await assert.rejects(
    api.groups.updateGroupConfiguration({ rolesEnabled: false }),
    (error) => error.statusCode === 403,
  );

  await api.groups.deleteGroup(created.id);
  await assert.rejects(
    api.groups.getGroupById({ groupId: created.id }),
    (error) => error.statusCode === 404 && error.errorCode === 'GROUP_NOT_FOUND',
  );
});
