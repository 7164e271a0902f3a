// A real OpenID provider for actlog's sign-in tests, shaped like Microsoft Entra ID: one
// oidc-provider instance per tenant, mounted at /{tenant_id}/v2.0 (so each tenant has its own
// issuer, as Entra's do), Entra-style claims (tid, oid, roles, preferred_username) and JWT
// access tokens from the client credentials grant.
//
//   node provider.mjs PORT CONFIG.json
//
// CONFIG.json (read again at every sign-in, so a test can change an account's roles):
//   { "kid": "key-1",                      // key id prefix; restart with another to rotate keys
//     "api_audience": "api://actlog",      // the default resource of access tokens
//     "tenants": [ { "id": "…",
//        "clients": [ { "client_id", "client_secret", "redirect_uris"?, "roles"?, "oid"? } ],
//        "accounts": { "login": { "oid", "roles", "preferred_username" } } } ] }
//
// ACTLOG_TEST_NODE_MODULES names the node_modules holding oidc-provider (package.json's).
//
// Prints "listening PORT" once every tenant answers. Dev interactions are on: the login page
// takes a configured login with any password.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// The development-only features (in-memory store, dev login pages) are what a test wants: their
// start-up warnings would only fill the test output.
const warn = console.warn;
console.warn = (...args) => {
  if (!String(args[0]).startsWith('oidc-provider WARNING: a quick start development-only')) warn(...args);
};

// The packages are installed outside the clone; ACTLOG_TEST_NODE_MODULES says where.
const modules = process.env.ACTLOG_TEST_NODE_MODULES ?? join(import.meta.dirname, 'node_modules');
const resolved = createRequire(join(modules, 'resolve.js')).resolve('oidc-provider');
const { default: Provider } = await import(pathToFileURL(resolved).href);

const [port, configPath] = process.argv.slice(2);
if (!port || !configPath) {
  console.error('usage: node provider.mjs PORT CONFIG.json');
  process.exit(2);
}
const readConfig = () => JSON.parse(readFileSync(configPath, 'utf8'));
const config = readConfig();
const tenantOf = (id) => readConfig().tenants.find((t) => t.id === id) ?? { accounts: {}, clients: [] };

function signingKey(kid) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
}

function tenantProvider(base, tenant) {
  const issuer = `${base}/${tenant.id}/v2.0`;
  const clients = tenant.clients.map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    redirect_uris: c.redirect_uris ?? [],
    post_logout_redirect_uris: c.post_logout_redirect_uris ?? [],
    grant_types: c.redirect_uris ? ['authorization_code'] : ['client_credentials'],
    response_types: c.redirect_uris ? ['code'] : [],
    token_endpoint_auth_method: 'client_secret_post',
  }));
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: [signingKey(`${config.kid}-${tenant.id}`)] },
    conformIdTokenClaims: false,
    claims: { openid: ['sub', 'tid', 'oid', 'roles', 'preferred_username'] },
    pkce: { required: () => true },
    cookies: { keys: ['actlog-test-provider'] },
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => config.api_audience,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => ({
          scope: 'api',
          audience: resource,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    async findAccount(_ctx, id) {
      const account = tenantOf(tenant.id).accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        claims: () => ({
          sub: account.oid,
          tid: tenant.id,
          oid: account.oid,
          roles: account.roles ?? [],
          preferred_username: account.preferred_username ?? id,
        }),
      };
    },
    // App-only tokens carry the application's roles and its service principal's oid, as
    // Entra's do; delegated ones (a user's, through a client's authorization code) the user's
    // oid and app roles and the delegated scopes in `scp`.
    extraTokenClaims(_ctx, token) {
      if (token.kind === 'ClientCredentials') {
        const client = tenantOf(tenant.id).clients.find((c) => c.client_id === token.clientId) ?? {};
        return { tid: tenant.id, oid: client.oid ?? token.clientId, roles: client.roles ?? [], idtyp: 'app' };
      }
      const account = tenantOf(tenant.id).accounts[token.accountId];
      if (token.kind !== 'AccessToken' || !account) return undefined;
      const scp = (token.scope ?? '').split(' ').filter((s) => s && s !== 'openid').join(' ');
      return { tid: tenant.id, oid: account.oid, roles: account.roles ?? [], scp: scp || 'api' };
    },
  });
  provider.on('server_error', (_ctx, err) => console.error(`${tenant.id}: ${err.stack}`));
  return provider;
}

const server = http.createServer();
server.listen(Number(port), '127.0.0.1', () => {
  const actual = server.address().port;
  const base = `http://127.0.0.1:${actual}`;
  const mounted = config.tenants.map((t) => [`/${t.id}/v2.0`, tenantProvider(base, t).callback()]);
  server.on('request', (req, res) => {
    const hit = mounted.find(([prefix]) => req.url === prefix || req.url.startsWith(`${prefix}/`));
    if (!hit) {
      res.writeHead(404).end('no such tenant');
      return;
    }
    req.originalUrl = req.url;
    req.url = req.url.slice(hit[0].length) || '/';
    hit[1](req, res);
  });
  console.log(`listening ${actual}`);
});
