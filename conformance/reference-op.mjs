// The reference OP: npm oidc-provider (OpenID certified) on a free localhost port, configured
// with the same kinds of clients and users Castellan gets for the suite (see
// crates/testkit/src/conformance.rs). Prints one JSON line on stdout once listening:
//   {"issuer": "...", "port": N, "userinfo_token": "..." (with --bench)}
//
// Usage: node reference-op.mjs [--port N] [--redirect-base URL] [--pkjwt-jwks JSON] [--bench]
//   --redirect-base   origin of the RP's redirect listener (default http://localhost:18950)
//   --pkjwt-jwks      public JWKS of the private_key_jwt client (or env REFERENCE_OP_PKJWT_JWKS)
//   --bench           no interactions needed: also mints an access token for userinfo load
import http from 'node:http';
import crypto from 'node:crypto';
import querystring from 'node:querystring';
import Provider from 'oidc-provider';

// stdout carries only the ready line; oidc-provider's notices go to stderr.
console.log = console.info = console.warn = (...a) => console.error(...a);

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const bench = args.includes('--bench');
const redirectBase = arg('--redirect-base', 'http://localhost:18950').replace(/\/$/, '');
// The private_key_jwt client's key: given (public JWKS), or made here and printed on the ready line.
let pkjwtJwks = arg('--pkjwt-jwks', process.env.REFERENCE_OP_PKJWT_JWKS);
let pkjwt;
if (pkjwtJwks) {
  pkjwtJwks = JSON.parse(pkjwtJwks);
} else {
  const pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  pkjwt = { kid: crypto.randomUUID(), private_key_pem: pair.privateKey.export({ format: 'pem', type: 'pkcs8' }) };
  pkjwtJwks = { keys: [{ ...pair.publicKey.export({ format: 'jwk' }), kid: pkjwt.kid, alg: 'RS256', use: 'sig' }] };
}

/** Users and their known passwords; devInteractions' login form checks them (see below). */
const ACCOUNTS = {
  alice: {
    password: 'Password1!',
    claims: {
      name: 'Alice Example', given_name: 'Alice', family_name: 'Example', nickname: 'ali',
      preferred_username: 'alice', locale: 'en', gender: 'female', updated_at: 1700000000,
      email: 'alice@example.com', email_verified: true,
      phone_number: '+41 79 000 00 00', phone_number_verified: false,
      address: { street_address: 'Bahnhofstrasse 1', locality: 'Zurich', postal_code: '8001', country: 'CH' },
    },
  },
};

/** Redirect and logout URIs of every interactive client (the RP's listener). */
const cb = `${redirectBase}/cb`;
const uris = {
  redirect_uris: [cb],
  post_logout_redirect_uris: [`${redirectBase}/logout`, `${redirectBase}/logout?foo=bar`],
};

const clients = [
  { client_id: 'web-basic', client_secret: 'web-basic-secret', token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], ...uris,
    backchannel_logout_uri: `${redirectBase}/backchannel`, backchannel_logout_session_required: true },
  { client_id: 'web-post', client_secret: 'web-post-secret', token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], ...uris },
  { client_id: 'native-pkce', token_endpoint_auth_method: 'none', application_type: 'native',
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], ...uris },
  { client_id: 'web-pkjwt', token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'RS256',
    jwks: pkjwtJwks, grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], ...uris },
  { client_id: 'machine', client_secret: 'machine-secret', token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'openid profile email' },
  { client_id: 'api', client_secret: 'api-secret', token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [], response_types: [], redirect_uris: [] },
];

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(arg('--port', '0')), '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://localhost:${port}`;

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name', 'nickname', 'preferred_username', 'locale', 'gender', 'updated_at'],
    email: ['email', 'email_verified'],
    phone: ['phone_number', 'phone_number_verified'],
    address: ['address'],
  },
  scopes: ['openid', 'offline_access', 'profile', 'email', 'phone', 'address'],
  features: {
    devInteractions: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
    clientCredentials: { enabled: true },
    requestObjects: { enabled: true, requireSignedRequestObject: false },
    claimsParameter: { enabled: true },
  },
  findAccount(_ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return { accountId: id, claims: () => ({ sub: id, ...account.claims }) };
  },
  // First-party clients: no consent screen unless the RP asks for one (prompt=consent), as
  // Castellan does for its own apps.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) {
        existing.addOIDCScope(ctx.oidc.params.scope ?? 'openid');
        if (ctx.oidc.claims) existing.addOIDCClaims(Object.keys({ ...ctx.oidc.claims.userinfo, ...ctx.oidc.claims.id_token }));
        await existing.save();
        return existing;
      }
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope(ctx.oidc.params.scope ?? 'openid');
    if (ctx.oidc.claims) grant.addOIDCClaims(Object.keys({ ...ctx.oidc.claims.userinfo, ...ctx.oidc.claims.id_token }));
    await grant.save();
    return grant;
  },
  // The RP's back-channel listener is on localhost, which oidc-provider's SSRF guard refuses:
  // drop the guarding dispatcher (this OP only ever runs against local test listeners).
  fetch(url, options) {
    const { dispatcher: _guard, ...rest } = options;
    return globalThis.fetch(url, rest);
  },
  // Opaque access tokens everywhere (no resource indicators), as Castellan's default.
  ttl: { Grant: 86400, Interaction: 600, Session: 86400, AccessToken: 3600, ClientCredentials: 3600, IdToken: 3600, RefreshToken: 86400 },
});
provider.proxy = false;

// devInteractions accepts any login; check the password so that the suite can rely on
// wrong passwords being refused, like a real OP.
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && /^\/interaction\/[^/]+$/.test(ctx.path) && ctx.is('application/x-www-form-urlencoded')) {
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    const raw = Buffer.concat(chunks).toString();
    const form = querystring.parse(raw);
    if (form.prompt === 'login' && ACCOUNTS[form.login]?.password !== form.password) {
      ctx.status = 303;
      ctx.redirect(ctx.path);
      return;
    }
    ctx.request.body = raw;
  }
  await next();
});

provider.on('backchannel.error', (_ctx, err, client) => console.error(`back-channel logout to ${client.clientId} failed: ${err.message} ${err.cause?.message ?? ''}`));
server.on('request', provider.callback());

const ready = { issuer, port, pkjwt };
if (bench) {
  // A user access token for the userinfo scenario, without going through the login form.
  const client = await provider.Client.find('web-basic');
  const grant = new provider.Grant({ clientId: 'web-basic', accountId: 'alice' });
  grant.addOIDCScope('openid profile email');
  const grantId = await grant.save();
  const at = new provider.AccessToken({ accountId: 'alice', client, grantId, scope: 'openid profile email', gty: 'authorization_code' });
  ready.userinfo_token = await at.save();
}
process.stdout.write(`${JSON.stringify(ready)}\n`);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
