// The target OP as the suites see it: the config JSON written by the Rust test (see
// crates/testkit/src/conformance.rs for its shape), openid-client configurations per client
// kind, and the RP's listener for redirects and back-channel logout tokens.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import crypto from 'node:crypto';
import * as client from 'openid-client';

export function loadConfig(path) {
  if (!path) throw new Error('usage: node <script> <target-config.json>');
  const cfg = JSON.parse(readFileSync(path, 'utf8'));
  for (const key of ['issuer', 'redirect_base', 'login', 'account', 'clients']) {
    if (!(key in cfg)) throw new Error(`target config lacks "${key}"`);
  }
  cfg.skip ??= {};
  return cfg;
}

export const callbackUri = (cfg) => `${cfg.redirect_base}/cb`;
export const logoutUri = (cfg) => `${cfg.redirect_base}/logout`;

/** The client authentication of one configured client. */
async function clientAuth(c) {
  switch (c.auth) {
    case 'client_secret_basic': return client.ClientSecretBasic(c.client_secret);
    case 'client_secret_post': return client.ClientSecretPost(c.client_secret);
    case 'none': return client.None();
    case 'private_key_jwt': {
      // PEM (PKCS#1 as in ZITADEL app keys, or PKCS#8) -> WebCrypto key.
      const jwk = crypto.createPrivateKey(c.private_key_pem).export({ format: 'jwk' });
      const key = await crypto.webcrypto.subtle.importKey('jwk', jwk, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
      return client.PrivateKeyJwt({ key, kid: c.kid });
    }
    default: throw new Error(`unknown client auth "${c.auth}"`);
  }
}

/**
 * An openid-client configuration for `kind` (basic, post, public, private_key_jwt,
 * client_credentials, introspection), strict: discovery must name the configured issuer
 * exactly, ID token signatures are verified against the JWKS.
 */
export async function clientConfig(cfg, kind, { issuer = cfg.issuer } = {}) {
  const c = cfg.clients[kind];
  if (!c) throw new Error(`target config has no "${kind}" client`);
  const options = new URL(issuer).protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {};
  const conf = await client.discovery(new URL(issuer), c.client_id, { client_secret: c.client_secret }, await clientAuth(c), options);
  client.enableNonRepudiationChecks(conf);
  return conf;
}

/** The RP's listener: answers every request with 200 and records it (method, url, body). */
export async function startListener(cfg) {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, body: Buffer.concat(chunks).toString() });
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>RP</title><p>received</p>');
    });
  });
  const { port, hostname } = new URL(cfg.redirect_base);
  const listen = (host) => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: Number(port), host, ipv6Only: false }, () => { server.off('error', reject); resolve(); });
  });
  if (hostname !== 'localhost') {
    await listen(hostname);
  } else {
    // localhost may resolve to ::1 or 127.0.0.1 depending on the caller: listen on both where
    // the machine has IPv6.
    await listen('::').catch(() => listen('127.0.0.1'));
  }
  return { seen, close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }) };
}

/** Prints one result line. */
export function report(module, result, reason) {
  process.stdout.write(`${JSON.stringify(reason ? { module, result, reason } : { module, result })}\n`);
}
