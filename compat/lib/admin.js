'use strict';
// The setup a test needs that no SDK under test does: a tenant and an invited user with an
// activation token, made through sigil's own gRPC API (identity.v1) with the repo's protos.

const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', 'proto');

const definition = loader.loadSync(
  ['identity/v1/environment.proto', 'identity/v1/tenants.proto', 'identity/v1/users.proto'],
  { includeDirs: [PROTO_ROOT], keepCase: false, longs: String, enums: String, defaults: true },
);
const v1 = grpc.loadPackageDefinition(definition).identity.v1;

function call(client, method, request, metadata = new grpc.Metadata()) {
  return new Promise((resolve, reject) => {
    client[method](request, metadata, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** A gRPC admin of the environment named by the bootstrap credentials. */
async function admin(sigil) {
  const credentials = grpc.credentials.createInsecure();
  const auth = new v1.EnvironmentAuthService(sigil.grpcAddr, credentials);
  const { token } = await call(auth, 'authenticateVendor', {
    clientId: sigil.clientId,
    secret: sigil.secret,
  });
  auth.close();
  const metadata = () => {
    const m = new grpc.Metadata();
    m.set('authorization', `Bearer ${token}`);
    return m;
  };
  const tenants = new v1.TenantService(sigil.grpcAddr, credentials);
  const users = new v1.UserService(sigil.grpcAddr, credentials);
  return {
    createTenant: (tenantId, name) => call(tenants, 'createTenant', { tenantId, name }, metadata()),
    /** An invited user (no password yet) and a fresh activation token for it. */
    async invite(tenantId, email, name) {
      const { user } = await call(users, 'createUser', { tenantId, email, name }, metadata());
      const activation = await call(users, 'generateActivationToken', { userId: user.id }, metadata());
      return { user, token: activation.token };
    },
    /** An active user with a password. */
    async createUser(tenantId, email, password) {
      const { user } = await call(users, 'createUser', { tenantId, email, password }, metadata());
      return user;
    },
    close() {
      tenants.close();
      users.close();
    },
  };
}

module.exports = { admin };
