#!/usr/bin/env node
'use strict';
// Runs a command against a fresh sigil (see sigil.js): `node lib/with-sigil.js CMD [ARGS...]`.
// The command gets SIGIL_URL, SIGIL_GRPC_ADDR, SIGIL_CLIENT_ID and SIGIL_SECRET; its exit code
// is this script's, and sigil is stopped afterwards whatever happens.

const { spawn } = require('node:child_process');
const { startSigil } = require('./sigil');

async function main() {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    console.error('usage: with-sigil.js COMMAND [ARGS...]');
    return 2;
  }
  const sigil = await startSigil();
  let child;
  const forward = (signal) => child?.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    child = spawn(command, args, {
      stdio: 'inherit',
      env: {
        ...process.env,
        SIGIL_URL: sigil.httpUrl,
        SIGIL_GRPC_ADDR: sigil.grpcAddr,
        SIGIL_CLIENT_ID: sigil.clientId,
        SIGIL_SECRET: sigil.secret,
      },
    });
    const code = await new Promise((resolve) => {
      child.on('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0)));
      child.on('error', (error) => {
        console.error(`with-sigil: ${error.message}`);
        resolve(127);
      });
    });
    if (code !== 0 && process.env.SIGIL_COMPAT_VERBOSE === undefined) {
      process.stderr.write(`\n--- sigil log (tail) ---\n${sigil.log().slice(-4000)}\n`);
    }
    return code;
  } finally {
    await sigil.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
