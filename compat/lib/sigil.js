'use strict';
// Starts the sigil binary on SQLite in a temporary directory, on free loopback ports, with
// bootstrap credentials, and stops it again. Used by every test file of the suite.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

const REPO = path.resolve(__dirname, '..', '..');
const BINARY = process.env.SIGIL_BIN || path.join(REPO, 'target', 'debug', 'sigil');
// Node's own fetch, kept before a test installs a browser's in its place.
const nodeFetch = globalThis.fetch;

/** A port that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function ready(url, child, deadline) {
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    try {
      const response = await nodeFetch(url);
      if (response.ok) return true;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * Starts sigil. Returns its URLs, the bootstrap credentials, and `stop()`.
 * @param {{env?: Record<string,string>}} [options] extra SIGIL_* settings
 */
async function startSigil(options = {}) {
  if (!fs.existsSync(BINARY)) {
    throw new Error(`no sigil binary at ${BINARY}: build it (cargo build) or set SIGIL_BIN`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigil-compat-'));
  const clientId = crypto.randomUUID();
  const secret = crypto.randomBytes(24).toString('base64url');
  let lastLog = '';
  // A port found free may be taken before sigil binds it: try again with new ones.
  for (let attempt = 0; attempt < 3; attempt++) {
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      SIGIL_DATABASE_URL: `sqlite://${path.join(dir, 'sigil.db')}?mode=rwc`,
      SIGIL_HTTP_ADDR: `127.0.0.1:${httpPort}`,
      SIGIL_GRPC_ADDR: `127.0.0.1:${grpcPort}`,
      SIGIL_PUBLIC_URL: httpUrl,
      SIGIL_BOOTSTRAP_CLIENT_ID: clientId,
      SIGIL_BOOTSTRAP_SECRET: secret,
      SIGIL_COOKIE_SECURE: 'false',
      SIGIL_SHUTDOWN_DELAY: '0s',
      SIGIL_LOG: process.env.SIGIL_LOG || 'warn',
      ...options.env,
    };
    const child = spawn(BINARY, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const keep = (chunk) => {
      log = (log + chunk).slice(-20000);
      if (process.env.SIGIL_COMPAT_VERBOSE) process.stderr.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    if (await ready(`${httpUrl}/readyz`, child, Date.now() + 30_000)) {
      const stop = async () => {
        if (child.exitCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        }
        fs.rmSync(dir, { recursive: true, force: true });
      };
      return { httpUrl, grpcAddr: `127.0.0.1:${grpcPort}`, clientId, secret, stop, log: () => log };
    }
    child.kill('SIGKILL');
    lastLog = log;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw new Error(`sigil did not become ready:\n${lastLog}`);
}

module.exports = { startSigil };
