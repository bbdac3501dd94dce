'use strict';
// Frontegg's browser SDK, @frontegg/rest-api, pointed at sigil by its base URL only: activation,
// login, the current user, refresh and logout, over a browser-like fetch with CORS and cookies.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startSigil } = require('../lib/sigil');
const { admin } = require('../lib/admin');
const { installBrowser } = require('../lib/browser');

const APP_ORIGIN = 'http://127.0.0.1:5173';
const PASSWORD = 'Correct-horse-battery-7';

let sigil;
let setup;
let browser;
let sdk;

/** An API client of its own, as each Frontegg app (appName) has. */
function client(name, context = {}) {
  sdk.ContextHolder.for(name).setContext({
    baseUrl: sigil.httpUrl,
    requestCredentials: 'include',
    ...context,
  });
  return sdk.createApiClient(name);
}

/** Keeps the user load off, as Frontegg's hosted login does: no call past the auth routes. */
function withoutUserLoad(name) {
  const api = client(name);
  sdk.ContextHolder.for(name).setSessionContext({ skipUserLoading: true });
  return api;
}

function refreshCookie() {
  return `fe_refresh_${sigil.clientId.replace(/-/g, '')}`;
}

function cookieValue() {
  return browser.jar.get(new URL(sigil.httpUrl).hostname, refreshCookie())?.value;
}

function jwtClaims(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

before(async () => {
  sigil = await startSigil({ env: { SIGIL_CORS_ORIGINS: APP_ORIGIN } });
  setup = await admin(sigil);
  await setup.createTenant('acme', 'Acme');
  browser = installBrowser(`${APP_ORIGIN}/account/activate`);
  sdk = require('@frontegg/rest-api');
});

after(async () => {
  setup?.close();
  await sigil?.stop();
});

test('an invited user activates: strategy, then activation signs in and sets the refresh cookie', async () => {
  const api = withoutUserLoad('activate');
  const { user, token } = await setup.invite('acme', 'ann@example.com', 'Ann');

  const strategy = await api.auth.getActivateAccountStrategy({ userId: user.id, token });
  assert.equal(strategy.shouldSetPassword, true);

  const activated = await api.auth.activateAccount({ userId: user.id, token, password: PASSWORD });
  assert.equal(activated.userId, user.id);
  assert.equal(activated.userEmail, 'ann@example.com');
  assert.equal(activated.mfaRequired, false);
  assert.ok(activated.accessToken);
  assert.equal(jwtClaims(activated.accessToken).type, 'userToken');
  assert.ok(cookieValue(), `the ${refreshCookie()} cookie is set`);

  // The token is used up.
  await assert.rejects(
    api.auth.activateAccount({ userId: user.id, token, password: PASSWORD }),
    (error) => error instanceof sdk.FronteggApiError && error.statusCode === 400,
  );
});

test('activateAccountV2 signs the user in and loads the user and its tenants', async () => {
  const api = client('activate-v2');
  const { user, token } = await setup.invite('acme', 'bea@example.com', 'Bea');
  const { user: signedIn, tenants, activeTenant } = await api.auth.activateAccountV2({
    userId: user.id,
    token,
    password: PASSWORD,
  });
  assert.equal(signedIn.email, 'bea@example.com');
  assert.equal(signedIn.id, user.id);
  assert.deepEqual(tenants.map((t) => t.tenantId), ['acme']);
  assert.equal(activeTenant.tenantId, 'acme');
});

test('login, refresh and logout work through the refresh cookie', async () => {
  const api = withoutUserLoad('session');
  await setup.createUser('acme', 'cy@example.com', PASSWORD);

  const user = await api.auth.login({ email: 'cy@example.com', password: PASSWORD });
  assert.ok(user.accessToken);
  assert.equal(user.email, 'cy@example.com', 'claims of the access token are merged in');
  assert.equal(user.tenantId, 'acme');
  assert.equal(sdk.ContextHolder.for('session').getAccessToken(), user.accessToken);
  const first = cookieValue();
  assert.ok(first, 'login sets the refresh cookie');

  // The SDK sends no token: the browser sends the cookie, and sigil rotates it.
  const refreshed = await api.auth.refreshToken();
  const call = browser.requests.findLast((r) => r.url.endsWith('/auth/v1/user/token/refresh'));
  assert.equal(call.url, `${sigil.httpUrl}/frontegg/identity/resources/auth/v1/user/token/refresh`);
  assert.equal(call.headers.cookie, `${refreshCookie()}=${first}`);
  assert.ok(refreshed.accessToken);
  assert.notEqual(refreshed.accessToken, user.accessToken);
  assert.equal(refreshed.email, 'cy@example.com');
  const second = cookieValue();
  assert.ok(second && second !== first, 'refresh rotates the cookie');

  await api.auth.logout();
  assert.equal(cookieValue(), undefined, 'logout clears the cookie');
  await assert.rejects(api.auth.refreshToken(), (error) => error.statusCode === 401);
});

test('a refused login reaches the SDK as a FronteggApiError with code and trace id', async () => {
  const api = withoutUserLoad('refused');
  await assert.rejects(api.auth.login({ email: 'nobody@example.com', password: 'wrong-password' }), (error) => {
    assert.ok(error instanceof sdk.FronteggApiError);
    assert.equal(error.statusCode, 401);
    assert.equal(error.errorCode, 'INVALID_CREDENTIALS');
    assert.ok(error.message.length > 0);
    assert.ok(error.traceId, 'the trace id header is exposed to the page');
    return true;
  });
});

test('the browser is refused when its origin is not allowed', async () => {
  const stranger = await startSigil();
  try {
    sdk.ContextHolder.for('stranger').setContext({ baseUrl: stranger.httpUrl, requestCredentials: 'include' });
    sdk.ContextHolder.for('stranger').setSessionContext({ skipUserLoading: true });
    const api = sdk.createApiClient('stranger');
    await assert.rejects(api.auth.login({ email: 'a@example.com', password: PASSWORD }), TypeError);
  } finally {
    await stranger.stop();
  }
});

test('login loads the current user from /users/v2/me', async () => {
  const api = client('login-me');
  await setup.createUser('acme', 'dan@example.com', PASSWORD);
  const user = await api.auth.login({ email: 'dan@example.com', password: PASSWORD });
  const me = await api.auth.getMeV2();
  assert.equal(me.email, 'dan@example.com');
  assert.equal(user.id, me.id);
  assert.equal(user.tenantId, 'acme');
});

test('loginv2 and refreshTokenV3 load the user and the tenant list', async () => {
  const api = client('login-v2');
  await setup.createUser('acme', 'eve@example.com', PASSWORD);
  const login = await api.auth.loginv2({ email: 'eve@example.com', password: PASSWORD });
  assert.equal(login.user.email, 'eve@example.com');
  assert.deepEqual(login.tenants.map((t) => t.tenantId), ['acme']);
  assert.equal(login.activeTenant.tenantId, 'acme');

  const refreshed = await api.auth.refreshTokenV3();
  assert.equal(refreshed.user.email, 'eve@example.com');
  assert.equal(refreshed.activeTenant.tenantId, 'acme');
});

test('refreshTokenV2 loads the tenants from /users/v2/me/tenants', async () => {
  const api = client('refresh-v2');
  await setup.createUser('acme', 'fay@example.com', PASSWORD);
  await api.auth.login({ email: 'fay@example.com', password: PASSWORD });
  const { user, tenants } = await api.auth.refreshTokenV2();
  assert.equal(user.email, 'fay@example.com');
  assert.deepEqual(tenants.map((t) => t.tenantId), ['acme']);
});
