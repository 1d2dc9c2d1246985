// The relying-party suite driven by openid-client: one function per OpenID Foundation
// conformance module (Basic OP, Config OP, RP-initiated and back-channel logout), plus the
// OAuth grants Castellan offers (client credentials, introspection, revocation). Each module
// asserts what its OIDF namesake asserts, and prints one JSON line:
//   {"module": "...", "result": "pass" | "fail" | "skip", "reason": "..."}
// Usage: node suite.mjs <target-config.json> [module-name-filter]
import { createHmac } from 'node:crypto';
import * as client from 'openid-client';
import { browse, CookieJar } from './login.mjs';
import { loadConfig, clientConfig, callbackUri, logoutUri, startListener, report } from './target.mjs';

const cfg = loadConfig(process.argv[2]);
const only = process.argv[3];
const cb = callbackUri(cfg);
const fields = cfg.login.fields;
const account = cfg.account;

class Skip extends Error {}
const skip = (reason) => { throw new Skip(reason); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function check(cond, message) { if (!cond) throw new Error(message); }
const snippet = (page) => `${page.status} ${page.url}: ${page.html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200)}`;

const configs = new Map();
/** openid-client configuration per client kind (discovered once). */
async function conf(kind = 'basic') {
  if (!cfg.clients[kind]) skip(`the target has no ${kind} client`);
  if (!configs.has(kind)) configs.set(kind, await clientConfig(cfg, kind));
  return configs.get(kind);
}
const meta = async () => (await conf('basic')).serverMetadata();

/** Sends an authorization request through the headless user agent; returns where it ended. */
async function authorize(kind, params, { jar = new CookieJar(), stopAt = cb, pkce = true, nonce = true } = {}) {
  const c = await conf(kind);
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const n = nonce ? client.randomNonce() : undefined;
  const p = { redirect_uri: cb, scope: 'openid', response_type: 'code', state, ...params };
  if (n) p.nonce = n;
  if (pkce) Object.assign(p, { code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
  for (const [k, v] of Object.entries(p)) if (v === undefined) delete p[k];
  const url = client.buildAuthorizationUrl(c, p);
  // openid-client fills in response_type=code; oidcc-response-type-missing must send none.
  if ('response_type' in params && params.response_type === undefined) url.searchParams.delete('response_type');
  const res = await browse(url.href, { jar, fields, account, stopAt });
  return { ...res, c, jar, verifier: pkce ? verifier : undefined, state, nonce: n };
}

/** A full code flow: authorization, strict callback validation and code redemption. */
async function codeFlow(kind = 'basic', params = {}, opts = {}) {
  const a = await authorize(kind, params, opts);
  check(a.redirect, `the OP stopped on a page instead of redirecting back: ${a.page && snippet(a.page)}`);
  const tokens = await client.authorizationCodeGrant(a.c, new URL(a.redirect), {
    pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce, idTokenExpected: true, maxAge: opts.maxAge,
  });
  const claims = tokens.claims();
  check(claims, 'the token response has no id_token');
  if (account.sub) check(claims.sub === account.sub, `id_token sub ${claims.sub} is not the account's ${account.sub}`);
  return { ...a, tokens, claims };
}

/** The error of an error redirect, after checking state (and iss when advertised). */
async function redirectError(a) {
  check(a.redirect, `expected an error redirect, the OP stopped on ${a.page && snippet(a.page)}`);
  const q = new URL(a.redirect).searchParams;
  check(!q.has('code'), `expected an error, got a code: ${a.redirect}`);
  check(q.get('state') === a.state, `the error redirect does not echo state: ${a.redirect}`);
  if ((await meta()).authorization_response_iss_parameter_supported) {
    check(q.get('iss') === cfg.issuer, `the error redirect lacks iss=${cfg.issuer}: ${a.redirect}`);
  }
  return q.get('error');
}

async function userinfo(c, token, sub) {
  const info = await client.fetchUserInfo(c, token, sub);
  check(info.sub === sub, `userinfo sub ${info.sub} != ${sub}`);
  return info;
}

/** Status and JSON (or text) of a raw request. */
async function raw(url, init) {
  const res = await fetch(url, init);
  const text = await res.text();
  let body = text;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body };
}

const SCOPE_CLAIMS = {
  profile: ['name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at'],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
};

/** oidcc-scope-*: the scope's claims come back in userinfo or the ID token. */
async function scopeModule(scopes) {
  const supported = (await meta()).scopes_supported ?? [];
  const missing = scopes.filter((s) => !supported.includes(s));
  if (missing.length) skip(`scopes_supported lacks ${missing.join(', ')}`);
  const r = await codeFlow('basic', { scope: `openid ${scopes.join(' ')}` });
  const info = await userinfo(r.c, r.tokens.access_token, r.claims.sub);
  for (const s of scopes) {
    const got = SCOPE_CLAIMS[s].filter((k) => k in info || k in r.claims);
    check(got.length > 0, `scope ${s}: none of ${SCOPE_CLAIMS[s].join(', ')} in userinfo ${JSON.stringify(info)}`);
  }
}

/** Request object (JAR) support of the target, as advertised. */
async function requestObjectAlg(unsigned) {
  const m = await meta();
  if (!m.request_parameter_supported) skip('request_parameter_supported is not advertised');
  const algs = m.request_object_signing_alg_values_supported ?? [];
  if (unsigned) return algs.includes('none') ? 'none' : undefined;
  return algs.includes('HS256') ? 'HS256' : algs.includes('none') ? 'none' : skip('neither HS256 nor none request objects');
}

async function jwt(header, payload, secret) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${b64(header)}.${b64(payload)}`;
  if (header.alg === 'none') return `${input}.`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** A logged-in user agent (cookie jar) and its ID token. */
async function loggedIn(kind = 'basic') {
  const r = await codeFlow(kind);
  return { jar: r.jar, idToken: r.tokens.id_token, claims: r.claims, c: r.c };
}

/** After a logout the OP must not have a session any more: prompt=none fails with login_required. */
async function assertLoggedOut(jar) {
  const a = await authorize('basic', { prompt: 'none' }, { jar });
  const error = await redirectError(a);
  check(['login_required', 'interaction_required'].includes(error), `after logout prompt=none gave ${error}, not login_required`);
}

async function endSession(kind, params, jar, stopAt = logoutUri(cfg)) {
  const c = await conf(kind);
  if (!c.serverMetadata().end_session_endpoint) skip('no end_session_endpoint advertised');
  const url = client.buildEndSessionUrl(c, params);
  return browse(url.href, { jar, fields, account, stopAt: stopAt.split('?')[0] });
}

const listener = await startListener(cfg);

const modules = {
  'oidcc-server': async () => {
    const r = await codeFlow('basic');
    check(r.filled > 0, 'the user was never asked to log in');
    await userinfo(r.c, r.tokens.access_token, r.claims.sub);
  },
  'oidcc-server[client_auth_type=client_secret_post]': async () => {
    const r = await codeFlow('post');
    await userinfo(r.c, r.tokens.access_token, r.claims.sub);
  },
  'oidcc-server[client_auth_type=private_key_jwt]': async () => {
    const r = await codeFlow('private_key_jwt');
    await userinfo(r.c, r.tokens.access_token, r.claims.sub);
  },
  'oidcc-server[client_auth_type=none,pkce=S256]': async () => {
    const r = await codeFlow('public');
    await userinfo(r.c, r.tokens.access_token, r.claims.sub);
    // A public client without PKCE: refused at the authorization or the token endpoint.
    const a = await authorize('public', {}, { pkce: false, jar: r.jar });
    if (a.redirect && new URL(a.redirect).searchParams.has('code')) {
      const err = await client.authorizationCodeGrant(a.c, new URL(a.redirect), { expectedState: a.state, expectedNonce: a.nonce })
        .then(() => undefined, (e) => e);
      check(err?.error === 'invalid_grant' || err?.error === 'invalid_request', `a public client redeemed a code without PKCE (${err?.error})`);
    } else {
      check(a.redirect ? (await redirectError(a)) === 'invalid_request' : a.page.status >= 400, 'a public client without PKCE was not refused');
    }
  },
  'oidcc-response-type-missing': async () => {
    const a = await authorize('basic', { response_type: undefined });
    if (a.redirect) {
      const error = await redirectError(a);
      check(['invalid_request', 'unsupported_response_type'].includes(error), `error=${error}`);
    } else {
      check(a.page.status >= 400 && a.filled === 0, `no error page: ${snippet(a.page)}`);
    }
  },
  'oidcc-userinfo-get': async () => {
    const r = await codeFlow('basic', { scope: 'openid email' });
    const res = await raw(r.c.serverMetadata().userinfo_endpoint, { headers: { authorization: `Bearer ${r.tokens.access_token}` } });
    check(res.status === 200 && res.body.sub === r.claims.sub, `GET userinfo: ${res.status} ${JSON.stringify(res.body)}`);
  },
  'oidcc-userinfo-post-header': async () => {
    const r = await codeFlow('basic', { scope: 'openid email' });
    const res = await raw(r.c.serverMetadata().userinfo_endpoint, { method: 'POST', headers: { authorization: `Bearer ${r.tokens.access_token}` } });
    check(res.status === 200 && res.body.sub === r.claims.sub, `POST userinfo (header): ${res.status} ${JSON.stringify(res.body)}`);
  },
  'oidcc-userinfo-post-body': async () => {
    const r = await codeFlow('basic', { scope: 'openid email' });
    const res = await raw(r.c.serverMetadata().userinfo_endpoint, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ access_token: r.tokens.access_token }),
    });
    check(res.status === 200 && res.body.sub === r.claims.sub, `POST userinfo (body): ${res.status} ${JSON.stringify(res.body)}`);
  },
  'oidcc-userinfo-rejects-bad-token': async () => {
    const m = await meta();
    const res = await raw(m.userinfo_endpoint, { headers: { authorization: 'Bearer not-a-token' } });
    check(res.status === 401 && /invalid_token/.test(res.headers.get('www-authenticate') ?? ''), `bad token: ${res.status} ${res.headers.get('www-authenticate')}`);
  },
  'oidcc-ensure-request-without-nonce-succeeds-for-code-flow': async () => {
    const r = await codeFlow('basic', {}, { nonce: false });
    check(!('nonce' in r.claims), 'id_token carries a nonce that was never sent');
  },
  'oidcc-scope-profile': () => scopeModule(['profile']),
  'oidcc-scope-email': () => scopeModule(['email']),
  'oidcc-scope-address': () => scopeModule(['address']),
  'oidcc-scope-phone': () => scopeModule(['phone']),
  'oidcc-scope-all': () => scopeModule(['profile', 'email', 'address', 'phone']),
  'oidcc-ensure-other-scope-order-succeeds': async () => {
    const r = await codeFlow('basic', { scope: 'email openid' });
    const info = await userinfo(r.c, r.tokens.access_token, r.claims.sub);
    check('email' in info || 'email' in r.claims, 'email scope ignored when openid is not first');
  },
  'oidcc-display-page': async () => { await codeFlow('basic', { display: 'page' }); },
  'oidcc-display-popup': async () => { await codeFlow('basic', { display: 'popup' }); },
  'oidcc-prompt-login': async () => {
    const first = await codeFlow('basic');
    await sleep(1100);
    const second = await codeFlow('basic', { prompt: 'login' }, { jar: first.jar });
    check(second.filled > 0, 'prompt=login did not ask the user to log in again');
    if (first.claims.auth_time && second.claims.auth_time) {
      check(second.claims.auth_time > first.claims.auth_time, 'auth_time did not advance after prompt=login');
    }
  },
  'oidcc-prompt-none-not-logged-in': async () => {
    const error = await redirectError(await authorize('basic', { prompt: 'none' }));
    check(['login_required', 'interaction_required', 'consent_required', 'account_selection_required'].includes(error), `error=${error}`);
  },
  'oidcc-prompt-none-logged-in': async () => {
    const first = await codeFlow('basic');
    const second = await codeFlow('basic', { prompt: 'none' }, { jar: first.jar });
    check(second.filled === 0, 'prompt=none showed a login form');
    check(second.claims.sub === first.claims.sub, 'prompt=none gave another subject');
  },
  'oidcc-max-age-1': async () => {
    const first = await codeFlow('basic');
    await sleep(2100);
    const second = await codeFlow('basic', { max_age: '1' }, { jar: first.jar, maxAge: 1 });
    check(second.filled > 0, 'max_age=1 after 2 s did not ask the user to log in again');
    check(second.claims.auth_time, 'auth_time missing although max_age was sent');
    check(!first.claims.auth_time || second.claims.auth_time > first.claims.auth_time, 'auth_time did not advance');
  },
  'oidcc-max-age-10000': async () => {
    const first = await codeFlow('basic');
    const second = await codeFlow('basic', { max_age: '10000' }, { jar: first.jar, maxAge: 10000 });
    check(second.filled === 0, 'max_age=10000 asked the user to log in again');
    check(second.claims.auth_time, 'auth_time missing although max_age was sent');
    if (first.claims.auth_time) check(second.claims.auth_time === first.claims.auth_time, 'auth_time changed without a new login');
  },
  'oidcc-id-token-hint': async () => {
    const first = await codeFlow('basic');
    const second = await codeFlow('basic', { prompt: 'none', id_token_hint: first.tokens.id_token }, { jar: first.jar });
    check(second.claims.sub === first.claims.sub, 'id_token_hint gave another subject');
  },
  'oidcc-login-hint': async () => {
    const r = await codeFlow('basic', { login_hint: account.username });
    const hinted = r.pages.some((p) => p.html.includes(`value="${account.username}"`));
    check(hinted, 'the login page does not show the login_hint');
  },
  'oidcc-ui-locales': async () => { await codeFlow('basic', { ui_locales: 'de-CH de en' }); },
  'oidcc-claims-locales': async () => { await codeFlow('basic', { scope: 'openid profile', claims_locales: 'de-CH de en' }); },
  'oidcc-ensure-request-with-acr-values-succeeds': async () => { await codeFlow('basic', { acr_values: '1 2' }); },
  'oidcc-claims-essential': async () => {
    if (!(await meta()).claims_parameter_supported) skip('claims_parameter_supported is not advertised');
    const claims = JSON.stringify({ userinfo: { name: { essential: true } } });
    const r = await codeFlow('basic', { claims });
    const info = await userinfo(r.c, r.tokens.access_token, r.claims.sub);
    check('name' in info, `essential claim name missing from userinfo: ${JSON.stringify(info)}`);
  },
  'oidcc-ensure-request-with-valid-pkce-succeeds': async () => {
    const m = await meta();
    if (m.code_challenge_methods_supported && !m.code_challenge_methods_supported.includes('S256')) skip('S256 not advertised');
    await codeFlow('basic');
  },
  'rfc7636-wrong-code-verifier-rejected': async () => {
    const a = await authorize('basic', {});
    check(a.redirect, 'no redirect');
    const err = await client.authorizationCodeGrant(a.c, new URL(a.redirect), {
      pkceCodeVerifier: client.randomPKCECodeVerifier(), expectedState: a.state, expectedNonce: a.nonce,
    }).then(() => undefined, (e) => e);
    check(err?.error === 'invalid_grant', `a wrong code_verifier was not refused with invalid_grant (${err?.error ?? 'accepted'})`);
  },
  'oidcc-ensure-request-with-unknown-parameter-succeeds': async () => { await codeFlow('basic', { extra: 'foobar' }); },
  'oidcc-ensure-request-object-with-redirect-uri': async () => {
    const alg = await requestObjectAlg(false);
    const c = await conf('basic');
    const state = client.randomState();
    const nonce = client.randomNonce();
    const verifier = client.randomPKCECodeVerifier();
    const payload = {
      iss: cfg.clients.basic.client_id, aud: cfg.issuer, client_id: cfg.clients.basic.client_id, response_type: 'code', redirect_uri: cb,
      scope: 'openid', state, nonce, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    };
    const request = await jwt({ alg, typ: 'oauth-authz-req+jwt' }, payload, cfg.clients.basic.client_secret);
    const url = new URL(c.serverMetadata().authorization_endpoint);
    url.search = new URLSearchParams({ client_id: cfg.clients.basic.client_id, response_type: 'code', scope: 'openid', request }).toString();
    const res = await browse(url.href, { fields, account, stopAt: cb });
    check(res.redirect, `request object refused: ${res.page && snippet(res.page)}`);
    const tokens = await client.authorizationCodeGrant(c, new URL(res.redirect), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    check(tokens.claims()?.nonce === nonce, 'nonce of the request object not in the id_token');
  },
  'oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported': async () => {
    const c = await conf('basic');
    const m = c.serverMetadata();
    const state = client.randomState();
    const verifier = client.randomPKCECodeVerifier();
    const payload = {
      iss: cfg.clients.basic.client_id, aud: cfg.issuer, client_id: cfg.clients.basic.client_id, response_type: 'code', redirect_uri: cb,
      scope: 'openid', state, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    };
    const url = new URL(m.authorization_endpoint);
    url.search = new URLSearchParams({
      client_id: cfg.clients.basic.client_id, response_type: 'code', scope: 'openid', redirect_uri: cb, state, request: await jwt({ alg: 'none' }, payload),
    }).toString();
    const res = await browse(url.href, { fields, account, stopAt: cb });
    if (res.redirect && new URL(res.redirect).searchParams.has('code')) {
      check((m.request_object_signing_alg_values_supported ?? []).includes('none'), 'an unsigned request object was accepted but alg none is not advertised');
      await client.authorizationCodeGrant(c, new URL(res.redirect), { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true });
    } else if (res.redirect) {
      const error = new URL(res.redirect).searchParams.get('error');
      check(['request_not_supported', 'invalid_request_object', 'invalid_request'].includes(error), `error=${error}`);
    } else {
      check(res.page.status >= 400, `neither accepted nor rejected: ${snippet(res.page)}`);
    }
  },
  'oidcc-ensure-registered-redirect-uri': async () => {
    const bogus = `${cfg.redirect_base}/not-registered`;
    const a = await authorize('basic', { redirect_uri: bogus }, { stopAt: cfg.redirect_base });
    check(!a.redirect, `the OP redirected to an unregistered redirect_uri: ${a.redirect}`);
    check(a.page.status >= 400 && a.filled === 0, `expected an error page, got ${snippet(a.page)}`);
  },
  'oidcc-codereuse': async () => {
    const a = await authorize('basic', {});
    check(a.redirect, 'no redirect');
    const checks = { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce, idTokenExpected: true };
    const tokens = await client.authorizationCodeGrant(a.c, new URL(a.redirect), checks);
    const err = await client.authorizationCodeGrant(a.c, new URL(a.redirect), checks).then(() => undefined, (e) => e);
    check(err?.error === 'invalid_grant', `the second redemption of a code was not refused with invalid_grant (${err?.error ?? 'accepted'})`);
    const revoked = await client.fetchUserInfo(a.c, tokens.access_token, client.skipSubjectCheck).then(() => false, () => true);
    if (!revoked) return 'note: the access token of the reused code still works (the module only warns)';
  },
  'oidcc-codereuse-30seconds': async () => {
    const a = await authorize('basic', {});
    check(a.redirect, 'no redirect');
    const checks = { pkceCodeVerifier: a.verifier, expectedState: a.state, expectedNonce: a.nonce, idTokenExpected: true };
    await client.authorizationCodeGrant(a.c, new URL(a.redirect), checks);
    await sleep(30_000);
    const err = await client.authorizationCodeGrant(a.c, new URL(a.redirect), checks).then(() => undefined, (e) => e);
    check(err?.error === 'invalid_grant', `reuse after 30 s not refused with invalid_grant (${err?.error ?? 'accepted'})`);
  },
  'oidcc-server-rotate-keys': async () => skip('needs the operator to rotate the signing keys during the run; Castellan\'s key rotation is covered by tests/it/oidc_keys.rs'),
  'oidcc-refresh-token': async () => {
    const r = await codeFlow('basic', { scope: 'openid offline_access', prompt: 'consent' });
    check(r.tokens.refresh_token, 'no refresh_token for scope offline_access');
    const fresh = await client.refreshTokenGrant(r.c, r.tokens.refresh_token);
    check(fresh.access_token && fresh.access_token !== r.tokens.access_token, 'refresh gave no new access token');
    const claims = fresh.claims();
    if (claims) check(claims.sub === r.claims.sub && claims.iss === r.claims.iss, 'refreshed id_token changed sub or iss');
    await userinfo(r.c, fresh.access_token, r.claims.sub);
    const bad = await client.refreshTokenGrant(r.c, 'not-a-refresh-token').then(() => undefined, (e) => e);
    check(bad?.error === 'invalid_grant', `an invalid refresh token was not refused with invalid_grant (${bad?.error})`);
  },
  'oidcc-discovery-endpoint-verification': async () => {
    const res = await raw(new URL('.well-known/openid-configuration', `${cfg.issuer.replace(/\/$/, '')}/`).href);
    check(res.status === 200 && /json/.test(res.headers.get('content-type') ?? ''), `discovery: ${res.status}`);
    const m = res.body;
    for (const k of ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri', 'response_types_supported', 'subject_types_supported', 'id_token_signing_alg_values_supported', 'userinfo_endpoint']) {
      check(m[k], `discovery lacks ${k}`);
    }
    check(m.issuer === cfg.issuer, `issuer ${m.issuer} != ${cfg.issuer}`);
    check(m.response_types_supported.includes('code'), 'response_types_supported lacks code');
    check(m.id_token_signing_alg_values_supported.includes('RS256'), 'id_token_signing_alg_values_supported lacks RS256');
    check(!m.scopes_supported || m.scopes_supported.includes('openid'), 'scopes_supported lacks openid');
    check(!m.claims_supported || m.claims_supported.includes('sub'), 'claims_supported lacks sub');
    const jwks = await raw(m.jwks_uri);
    check(jwks.status === 200 && Array.isArray(jwks.body.keys) && jwks.body.keys.length > 0, 'jwks_uri serves no keys');
    for (const k of jwks.body.keys) {
      check(k.kty && k.kid, `a JWK lacks kty or kid: ${JSON.stringify(k)}`);
      check(!('d' in k) && !('p' in k), 'the JWKS publishes private key material');
    }
  },
  'oidcc-discovery-issuer-not-matching-config': async () => {
    // The configured issuer is accepted; a different one is rejected by the client.
    await clientConfig(cfg, 'basic');
    const wrong = `${cfg.issuer.replace(/\/$/, '')}/other`;
    const err = await clientConfig(cfg, 'basic', { issuer: wrong }).then(() => undefined, (e) => e);
    check(err, `discovery under ${wrong} was accepted`);
  },
  'oidcc-idtoken-rs256': async () => {
    const r = await codeFlow('basic');
    const header = JSON.parse(Buffer.from(r.tokens.id_token.split('.')[0], 'base64url').toString());
    check(header.alg === 'RS256', `id_token alg ${header.alg}`);
    check(header.kid, 'id_token has no kid');
    for (const k of ['iss', 'sub', 'aud', 'exp', 'iat']) check(r.claims[k] !== undefined, `id_token lacks ${k}`);
    check(r.claims.exp > r.claims.iat, 'exp not after iat');
  },
  'oidcc-rp-initiated-logout': async () => {
    const s = await loggedIn();
    const state = client.randomState();
    const res = await endSession('basic', { id_token_hint: s.idToken, post_logout_redirect_uri: logoutUri(cfg), state }, s.jar);
    check(res.redirect, `no redirect to post_logout_redirect_uri: ${res.page && snippet(res.page)}`);
    check(new URL(res.redirect).searchParams.get('state') === state, `state not echoed: ${res.redirect}`);
    await assertLoggedOut(s.jar);
  },
  'oidcc-rp-initiated-logout-no-state': async () => {
    const s = await loggedIn();
    const res = await endSession('basic', { id_token_hint: s.idToken, post_logout_redirect_uri: logoutUri(cfg) }, s.jar);
    check(res.redirect, 'no redirect');
    check(!new URL(res.redirect).searchParams.has('state'), `a state appeared: ${res.redirect}`);
    await assertLoggedOut(s.jar);
  },
  'oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri': async () => {
    const s = await loggedIn();
    const state = client.randomState();
    const res = await endSession('basic', { id_token_hint: s.idToken, post_logout_redirect_uri: `${logoutUri(cfg)}?foo=bar`, state }, s.jar);
    check(res.redirect, 'no redirect');
    const q = new URL(res.redirect).searchParams;
    check(q.get('foo') === 'bar' && q.get('state') === state, `query or state lost: ${res.redirect}`);
  },
  'oidcc-rp-initiated-logout-no-id-token-hint': async () => {
    const s = await loggedIn();
    const state = client.randomState();
    const res = await endSession('basic', { client_id: cfg.clients.basic.client_id, post_logout_redirect_uri: logoutUri(cfg), state }, s.jar);
    check(res.redirect && new URL(res.redirect).searchParams.get('state') === state, `no redirect with state: ${res.redirect ?? snippet(res.page)}`);
    await assertLoggedOut(s.jar);
  },
  'oidcc-rp-initiated-logout-bad-post-logout-redirect-uri': async () => {
    const s = await loggedIn();
    const bogus = `${cfg.redirect_base}/not-registered`;
    const res = await endSession('basic', { id_token_hint: s.idToken, post_logout_redirect_uri: bogus, state: 'x' }, s.jar, bogus);
    check(!res.redirect, `redirected to an unregistered post_logout_redirect_uri: ${res.redirect}`);
    check(res.page.status >= 400, `expected an error page: ${snippet(res.page)}`);
  },
  'oidcc-rp-initiated-logout-modified-id-token-hint': async () => {
    const s = await loggedIn();
    const [h, p, sig] = s.idToken.split('.');
    const forged = `${h}.${p}.${sig.slice(0, -4)}${sig.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    const res = await endSession('basic', { id_token_hint: forged, post_logout_redirect_uri: logoutUri(cfg), state: 'x' }, s.jar);
    check(!res.redirect, `redirected although the id_token_hint signature is broken: ${res.redirect}`);
    check(res.page.status >= 400, `expected an error page: ${snippet(res.page)}`);
  },
  'oidcc-rp-initiated-logout-no-post-logout-redirect-uri': async () => {
    const s = await loggedIn();
    const res = await endSession('basic', { id_token_hint: s.idToken }, s.jar);
    check(!res.redirect && res.page.status < 400, `expected a logged-out page: ${res.redirect ?? snippet(res.page)}`);
    await assertLoggedOut(s.jar);
  },
  'oidcc-rp-initiated-logout-no-params': async () => {
    const s = await loggedIn();
    const res = await endSession('basic', {}, s.jar);
    check(!res.redirect && res.page.status < 400, `expected a page: ${res.redirect ?? snippet(res.page)}`);
    await assertLoggedOut(s.jar);
  },
  'oidcc-backchannel-rp-initiated-logout': async () => {
    const m = await meta();
    if (!m.backchannel_logout_supported) skip('backchannel_logout_supported is not advertised');
    if (!cfg.clients.basic.backchannel_logout) skip('the basic client has no backchannel_logout_uri on this target');
    const s = await loggedIn();
    const before = listener.seen.length;
    await endSession('basic', { id_token_hint: s.idToken, post_logout_redirect_uri: logoutUri(cfg) }, s.jar);
    let post;
    for (let i = 0; i < 50 && !post; i += 1) {
      post = listener.seen.slice(before).find((r) => r.method === 'POST' && r.url.startsWith('/backchannel'));
      if (!post) await sleep(100);
    }
    check(post, 'no logout token was posted to the backchannel_logout_uri');
    const token = new URLSearchParams(post.body).get('logout_token');
    check(token, 'the back-channel request has no logout_token');
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    check(claims.iss === cfg.issuer && claims.aud?.includes?.(cfg.clients.basic.client_id), `logout token iss/aud: ${JSON.stringify(claims)}`);
    check(claims.events?.['http://schemas.openid.net/event/backchannel-logout'], 'logout token lacks the back-channel logout event');
    check(!('nonce' in claims), 'logout token carries a nonce');
    check(claims.sid === s.claims.sid || claims.sub === s.claims.sub, 'logout token names neither the session nor the subject');
  },
  'rfc6749-client-credentials': async () => {
    const c = await conf('client_credentials');
    const tokens = await client.clientCredentialsGrant(c, cfg.clients.client_credentials.scope ? { scope: cfg.clients.client_credentials.scope } : {});
    check(tokens.access_token && tokens.token_type?.toLowerCase() === 'bearer', `token response: ${JSON.stringify(tokens)}`);
    check(!tokens.refresh_token, 'client_credentials issued a refresh token');
    const res = await raw(c.serverMetadata().token_endpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(cfg.clients.client_credentials.client_id)}:wrong`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    check(res.status === 401 && res.body.error === 'invalid_client', `a wrong secret gave ${res.status} ${JSON.stringify(res.body)}`);
    check(/^Basic/i.test(res.headers.get('www-authenticate') ?? ''), 'a failed basic authentication has no WWW-Authenticate: Basic');
  },
  'rfc7662-introspection': async () => {
    const r = await codeFlow('basic', { scope: 'openid email' });
    const api = await conf('introspection');
    if (!api.serverMetadata().introspection_endpoint) skip('no introspection_endpoint advertised');
    const active = await client.tokenIntrospection(api, r.tokens.access_token);
    check(active.active === true && active.sub === r.claims.sub, `introspection of a live token: ${JSON.stringify(active)}`);
    check(active.client_id === cfg.clients.basic.client_id, `client_id ${active.client_id}`);
    const junk = await client.tokenIntrospection(api, 'not-a-token');
    check(junk.active === false && Object.keys(junk).length === 1, `introspection of junk: ${JSON.stringify(junk)}`);
  },
  'rfc7009-revocation': async () => {
    const r = await codeFlow('basic', { scope: 'openid offline_access', prompt: 'consent' });
    if (!r.c.serverMetadata().revocation_endpoint) skip('no revocation_endpoint advertised');
    await client.tokenRevocation(r.c, r.tokens.access_token);
    const gone = await client.fetchUserInfo(r.c, r.tokens.access_token, r.claims.sub).then(() => false, () => true);
    check(gone, 'a revoked access token still works at userinfo');
    if (cfg.clients.introspection) {
      const after = await client.tokenIntrospection(await conf('introspection'), r.tokens.access_token);
      check(after.active === false, 'a revoked access token introspects as active');
    }
    check(r.tokens.refresh_token, 'no refresh token to revoke');
    await client.tokenRevocation(r.c, r.tokens.refresh_token);
    const err = await client.refreshTokenGrant(r.c, r.tokens.refresh_token).then(() => undefined, (e) => e);
    check(err?.error === 'invalid_grant', `a revoked refresh token was not refused (${err?.error ?? 'accepted'})`);
    await client.tokenRevocation(r.c, 'not-a-token'); // RFC 7009: unknown tokens answer 200
  },
};

/** An error as one line: message, OAuth error, and the HTTP answer or cause behind it. */
function describe(e) {
  const oauth = e.error ? ` (${e.error}: ${e.error_description ?? ''})` : '';
  const cause = e.cause instanceof Response ? ` [HTTP ${e.cause.status} ${e.cause.url}]`
    : e.cause ? ` cause: ${JSON.stringify(e.cause).slice(0, 300)}` : '';
  return `${e.message}${oauth}${cause}`;
}

let failed = 0;
const counts = { pass: 0, fail: 0, skip: 0 };
async function run(name) {
  if (only && !name.includes(only)) return;
  if (cfg.skip[name]) { counts.skip += 1; report(name, 'skip', cfg.skip[name]); return; }
  try {
    const note = await modules[name]();
    counts.pass += 1;
    report(name, 'pass', typeof note === 'string' ? note : undefined);
  } catch (e) {
    if (e instanceof Skip) { counts.skip += 1; report(name, 'skip', e.message); return; }
    counts.fail += 1;
    failed += 1;
    report(name, 'fail', describe(e));
  }
}

try {
  // The 30-second module waits alongside the others.
  const slow = 'oidcc-codereuse-30seconds';
  const background = run(slow);
  for (const name of Object.keys(modules)) if (name !== slow) await run(name);
  await background;
} finally {
  await listener.close();
}
process.stderr.write(`openid-client suite: ${counts.pass} passed, ${counts.fail} failed, ${counts.skip} skipped\n`);
process.exit(failed ? 1 : 0);
