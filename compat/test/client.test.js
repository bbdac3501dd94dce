'use strict';
// Frontegg's backend SDK, @frontegg/client, pointed at sigil by FRONTEGG_API_GATEWAY_URL only:
// environment authentication, and validation of sigil's access tokens with the public key it
// reads from /identity/resources/configurations/v1.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { startSigil } = require('../lib/sigil');
const { admin } = require('../lib/admin');

const PASSWORD = 'Correct-horse-battery-7';

let sigil;
let frontegg;
let accessToken;
let user;

/** A user's access token, from a plain REST login (what a frontend would hold). */
async function login(email, password) {
  const response = await fetch(`${sigil.httpUrl}/identity/resources/auth/v1/user`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  assert.equal(response.status, 200);
  return (await response.json()).accessToken;
}

function parts(token) {
  const [header, payload, signature] = token.split('.');
  return { header, payload, signature };
}

/** `token` with its claims changed and its signature kept. */
function tampered(token, change) {
  const { header, payload, signature } = parts(token);
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  change(claims);
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

/** `token`'s header and claims signed with a key sigil never had. */
function forged(token) {
  const { header, payload } = parts(token);
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signature = crypto.sign('sha256', Buffer.from(`${header}.${payload}`), privateKey);
  return `${header}.${payload}.${signature.toString('base64url')}`;
}

before(async () => {
  sigil = await startSigil();
  // Read by the SDK when it loads: the only change a backend makes to use sigil.
  process.env.FRONTEGG_API_GATEWAY_URL = sigil.httpUrl;
  frontegg = require('@frontegg/client');
  const setup = await admin(sigil);
  await setup.createTenant('acme', 'Acme');
  user = await setup.createUser('acme', 'ann@example.com', PASSWORD);
  setup.close();
  accessToken = await login('ann@example.com', PASSWORD);
  frontegg.FronteggContext.init({ FRONTEGG_CLIENT_ID: sigil.clientId, FRONTEGG_API_KEY: sigil.secret });
});

after(async () => {
  await sigil?.stop();
});

test('the authenticator gets an environment token with the client id and secret', async () => {
  const authenticator = new frontegg.FronteggAuthenticator();
  try {
    await authenticator.init(sigil.clientId, sigil.secret);
    assert.ok(authenticator.accessToken);
    assert.ok(authenticator.accessTokenExpiry > Date.now(), 'expiresIn is read');
  } finally {
    await authenticator.shutdown();
  }
});

test('the authenticator is refused with a wrong secret', async () => {
  process.env.FRONTEGG_AUTHENTICATOR_NUMBER_OF_TRIES = '1';
  const authenticator = new frontegg.FronteggAuthenticator();
  try {
    await assert.rejects(authenticator.init(sigil.clientId, 'not-the-secret'), /Failed to authenticate/);
    assert.equal(authenticator.accessToken, '');
  } finally {
    delete process.env.FRONTEGG_AUTHENTICATOR_NUMBER_OF_TRIES;
    await authenticator.shutdown();
  }
});

test('validateIdentityOnToken accepts a sigil access token and returns its claims', async () => {
  const identity = await frontegg.IdentityClient.getInstance().validateIdentityOnToken(accessToken);
  assert.equal(identity.sub, user.id);
  assert.equal(identity.type, 'userToken');
  assert.equal(identity.email, 'ann@example.com');
  assert.equal(identity.tenantId, 'acme');
  assert.deepEqual(identity.tenantIds, ['acme']);
  // The SDK strips "Bearer " itself, as when handed an Authorization header.
  const again = await frontegg.IdentityClient.getInstance().validateIdentityOnToken(`Bearer ${accessToken}`);
  assert.equal(again.sub, user.id);
});

test('validateIdentityOnToken rejects tampered and forged tokens', async () => {
  const identity = frontegg.IdentityClient.getInstance();
  const rejected = (error) => error.statusCode === 401;
  await assert.rejects(identity.validateIdentityOnToken(tampered(accessToken, (c) => (c.sub = 'someone-else'))), rejected);
  await assert.rejects(identity.validateIdentityOnToken(tampered(accessToken, (c) => (c.roles = ['Owner']))), rejected);
  await assert.rejects(identity.validateIdentityOnToken(forged(accessToken)), rejected);
  await assert.rejects(identity.validateIdentityOnToken('not-a-token'), rejected);
});

test('validateToken reads roles and permissions from the token and checks them', async () => {
  const identity = frontegg.IdentityClient.getInstance();
  const entity = await identity.validateToken(accessToken);
  assert.equal(entity.sub, user.id);
  // Ann is acme's first member, so its admin: the built-in Admin role and what it grants.
  assert.deepEqual(entity.roles, ['Admin']);
  assert.ok(entity.permissions.includes('fe.secure.write.roles'));
  await identity.validateToken(accessToken, { roles: ['Admin', 'Other'] });
  await identity.validateToken(accessToken, { permissions: ['fe.secure.read.users'] });
  const insufficient = (e) => e.statusCode === 403;
  await assert.rejects(identity.validateToken(accessToken, { roles: ['Owner'] }), insufficient);
  await assert.rejects(identity.validateToken(accessToken, { permissions: ['billing.write'] }), insufficient);
  // A later member gets the default role, which reads and does not write.
  const setup = await admin(sigil);
  await setup.createUser('acme', 'bob@example.com', PASSWORD);
  setup.close();
  const bob = await identity.validateToken(await login('bob@example.com', PASSWORD));
  assert.deepEqual(bob.roles, ['ReadOnly']);
  assert.ok(bob.permissions.includes('fe.secure.read.users'));
  assert.ok(!bob.permissions.includes('fe.secure.write.roles'));
});

test('the withAuthentication middleware lets a sigil token through and stops a tampered one', async () => {
  const middleware = frontegg.withAuthentication();
  const run = (authorization) =>
    new Promise((resolve) => {
      const req = { header: (name) => (name.toLowerCase() === 'authorization' ? authorization : undefined) };
      const res = {
        status(code) {
          return { send: () => resolve({ status: code, req }) };
        },
      };
      middleware(req, res, (error) => {
        if (!error) resolve({ status: 'next', req });
      });
    });

  const passed = await run(`Bearer ${accessToken}`);
  assert.equal(passed.status, 'next');
  assert.equal(passed.req.frontegg.user.id, user.id);
  assert.equal(passed.req.frontegg.user.email, 'ann@example.com');

  const stopped = await run(`Bearer ${tampered(accessToken, (c) => (c.email = 'x@example.com'))}`);
  assert.equal(stopped.status, 401);
  assert.equal((await run(undefined)).status, 401);
});
