// One code flow through the target's real login pages in headless Debian Chromium (driven by
// playwright-core): types the login name and password into the fields of the per-target field
// map, presses the submit button, screenshots every page, and checks that the RP's redirect_uri
// received a code that openid-client redeems (state, nonce, PKCE, iss and ID token signature
// checked); then a single-page app on another origin (browser-spa-cross-origin, CORS), and,
// on Castellan, the login pages under axe-core's WCAG rules in the light and the dark colour
// scheme (browser-login-accessibility). Prints one JSON result line per module like suite.mjs.
// Usage: node browser.mjs <target-config.json>   (env CHROMIUM overrides /usr/bin/chromium)
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import * as client from 'openid-client';
import { loadConfig, clientConfig, callbackUri, startListener, report } from './target.mjs';

const MODULE = 'browser-code-flow';
const SPA_MODULE = 'browser-spa-cross-origin';
const A11Y_MODULE = 'browser-login-accessibility';
// axe-core's rules for WCAG 2.0, 2.1 and 2.2 at levels A and AA.
const WCAG = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const cfg = loadConfig(process.argv[2]);
const here = path.dirname(fileURLToPath(import.meta.url));
const shots = cfg.screenshots_dir ?? path.join(here, '..', 'target', 'conformance-screenshots');
mkdirSync(shots, { recursive: true });
const profile = mkdtempSync(path.join(tmpdir(), 'castellan-chromium-'));
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// A screenshot for review, saved as `file` under `shots`. Headless Chromium now and then cannot
// capture a frame ("Unable to capture screenshot", seen when the machine was busy): after a
// moment, one more try, so that the page's checks still decide the module.
async function shoot(page, file, options = {}) {
  const take = () => page.screenshot({ path: path.join(shots, file), ...options });
  try {
    await take();
  } catch (e) {
    if (!String(e?.message).includes('Unable to capture screenshot')) throw e;
    await page.waitForTimeout(1000);
    await take();
  }
}

const fill = (t) => t.replaceAll('{username}', cfg.account.username ?? '').replaceAll('{password}', cfg.account.password ?? '')
  .replaceAll('{new_password}', cfg.account.new_password ?? '');

// The login page on a phone-sized viewport (prompt=login, so the session does not skip it):
// a screenshot for review, no horizontal scrolling, and a label for every visible field.
async function mobileAndLabels(c) {
  const url = client.buildAuthorizationUrl(c, {
    redirect_uri: callbackUri(cfg), scope: 'openid', state: client.randomState(), nonce: client.randomNonce(),
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256', prompt: 'login',
  });
  const phone = await context.newPage();
  await phone.setViewportSize({ width: 390, height: 844 });
  await phone.goto(url.href);
  await shoot(phone, `${cfg.target}-mobile.png`, { fullPage: true });
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) throw new Error(`the login page scrolls sideways on a 390 px screen (${overflow} px)`);
  const unlabelled = await phone.evaluate(() => [...document.querySelectorAll('input:not([type=hidden])')]
    .filter((i) => i.labels.length === 0 && !i.getAttribute('aria-label')).map((i) => i.name));
  if (unlabelled.length) throw new Error(`fields without a label: ${unlabelled.join(', ')}`);
  await phone.close();
}

// Through the login pages from `url` to the redirect_uri; screenshots named `tag`-NN.
async function signIn(page, url, tag) {
  await page.goto(url);
  let typed = 0;
  for (let step = 1; step <= 10 && !page.url().startsWith(callbackUri(cfg)); step += 1) {
    await shoot(page, `${tag}-${String(step).padStart(2, '0')}.png`, { fullPage: true });
    for (const [name, template] of Object.entries(cfg.login.fields)) {
      const input = page.locator(`input[name="${name}"]:visible`);
      if (await input.count()) {
        await input.first().fill('');
        await input.first().pressSequentially(fill(template));
        typed += 1;
      }
    }
    const button = page.locator('button[type="submit"]:visible, input[type="submit"]:visible, button:not([type]):visible').first();
    if (!(await button.count())) throw new Error(`no submit button on ${page.url()}`);
    await Promise.all([page.waitForURL((u) => u.href !== page.url(), { timeout: 10_000 }).catch(() => {}), button.click()]);
    await page.waitForLoadState('load');
  }
  await shoot(page, `${tag}-99-callback.png`);
  const landed = page.url();
  if (!landed.startsWith(callbackUri(cfg))) throw new Error(`never reached the redirect_uri (last page ${landed})`);
  return typed;
}

// A single-page application on the RP's origin (another origin than the issuer): the public
// client's code flow in the browser, then, from the page's own JavaScript, discovery, the code
// exchange with PKCE and userinfo with a bearer header (a preflighted request). Chromium
// enforces CORS: a missing or wrong header fails the fetch.
async function spa(page) {
  const pub = cfg.clients.public;
  if (!pub) return report(SPA_MODULE, 'skip', 'the target has no public client');
  const c = await clientConfig(cfg, 'public');
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(c, {
    redirect_uri: callbackUri(cfg), scope: 'openid', state: client.randomState(),
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  await signIn(page, url.href, `${cfg.target ?? 'target'}-spa`);
  const code = new URL(page.url()).searchParams.get('code');
  if (!code) throw new Error(`no code at ${page.url()}`);
  const got = await page.evaluate(async ({ issuer, clientId, code, verifier, redirect }) => {
    const step = async (what, p) => { try { return await p; } catch (e) { throw new Error(`${what}: ${e.message}`); } };
    const meta = await step('discovery', fetch(`${issuer}/.well-known/openid-configuration`).then((r) => r.json()));
    const t = await step('token', fetch(meta.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: redirect, client_id: clientId }),
    }));
    const tokens = await t.json();
    if (t.status !== 200) return { error: `token ${t.status} ${JSON.stringify(tokens)}` };
    const u = await step('userinfo', fetch(meta.userinfo_endpoint, { headers: { authorization: `Bearer ${tokens.access_token}` } }));
    return { origin: location.origin, userinfo: await u.json() };
  }, { issuer: cfg.issuer, clientId: pub.client_id, code, verifier, redirect: callbackUri(cfg) });
  if (got.error) throw new Error(got.error);
  if (got.origin === new URL(cfg.issuer).origin) throw new Error('the page is on the issuer\'s origin: nothing cross-origin was tried');
  if (cfg.account.sub && got.userinfo.sub !== cfg.account.sub) throw new Error(`userinfo sub ${JSON.stringify(got.userinfo)}`);
  report(SPA_MODULE, 'pass');
}

// What axe-core finds against WCAG on the page as it is now.
async function wcagViolations(page) {
  await page.evaluate(axeSource);
  const r = await page.evaluate((tags) => globalThis.axe.run(document, { runOnly: { type: 'tag', values: tags } }), WCAG);
  return r.violations.map((v) => `${v.id} (${v.impact}) at ${v.nodes.slice(0, 2).map((n) => n.target.join(' ')).join(', ')}`);
}

// The body's background as a relative luminance (0 black to 1 white).
async function backgroundLuminance(page) {
  const rgb = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const [r, g, b] = rgb.match(/\d+(\.\d+)?/g).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

// Every login page the browser can reach (login name, also in German, password, a wrong
// password, the password change of cfg.change_required_account, account selection,
// registration, device code entry, an unknown page, the provider's error page) in the light and
// the dark colour scheme: no WCAG A/AA violation, and the dark scheme really is dark (the label
// policy's default theme follows the browser). A screenshot of each for review.
async function accessibility(c) {
  const authorize = async (prompt, extra = {}) => client.buildAuthorizationUrl(c, {
    redirect_uri: callbackUri(cfg), scope: 'openid', state: client.randomState(), nonce: client.randomNonce(),
    code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
    code_challenge_method: 'S256', prompt, ...extra,
  }).href;
  const submit = async (page, fields) => {
    for (const [name, value] of Object.entries(fields)) await page.locator(`input[name="${name}"]:visible`).first().fill(value);
    await Promise.all([page.waitForLoadState('load'), page.locator('button[type="submit"]:visible').first().click()]);
    await page.waitForLoadState('load');
  };
  const pages = [
    ['login-name', async (p) => p.goto(await authorize('login'))],
    ['login-name-german', async (p) => p.goto(await authorize('login', { ui_locales: 'de' }))],
    ['password', async (p) => submit(p, { loginName: cfg.account.username })],
    ['password-wrong', async (p) => submit(p, { password: 'not-the-password' })],
    ['password-change', async (p) => {
      const who = cfg.change_required_account;
      await p.goto(await authorize('login'));
      await submit(p, { loginName: who.username });
      await submit(p, { password: who.password });
      if (!(await p.locator('input[name="change-new-password"]').count())) throw new Error(`no password change page for ${who.username} at ${p.url()}`);
    }],
    ['select-account', async (p) => p.goto(await authorize('select_account'))],
    ['register', async (p) => p.goto(await authorize('create'))],
    ['device', async (p) => p.goto(new URL('/device', cfg.issuer).href)],
    ['not-found', async (p) => p.goto(new URL('/ui/login/no-such-page', cfg.issuer).href)],
    // The provider's own pages (this one, the signed-out page) share a plain frame.
    ['authorize-error', async (p) => p.goto(new URL('/oauth/v2/authorize?client_id=no-such-client&response_type=code&scope=openid', cfg.issuer).href)],
  ];
  const found = [];
  const luminance = {};
  for (const scheme of ['light', 'dark']) {
    const page = await context.newPage();
    await page.emulateMedia({ colorScheme: scheme });
    for (const [name, open] of pages) {
      await open(page);
      await shoot(page, `${cfg.target}-a11y-${scheme}-${name}.png`, { fullPage: true });
      for (const v of await wcagViolations(page)) found.push(`${scheme} ${name}: ${v}`);
      (luminance[name] ??= {})[scheme] = await backgroundLuminance(page);
    }
    await page.close();
  }
  if (found.length) throw new Error(`WCAG violations: ${found.join('; ')}`);
  const unthemed = Object.entries(luminance).filter(([, l]) => !(l.dark < 0.1 && l.light > 0.5)).map(([n]) => n);
  if (unthemed.length) throw new Error(`pages not dark in the dark scheme, or not light in the light one: ${unthemed.join(', ')}`);
}

const listener = await startListener(cfg);
let context;
let code = 1;
try {
  const c = await clientConfig(cfg, 'basic');
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(c, {
    redirect_uri: callbackUri(cfg), scope: 'openid profile email', state, nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
  });
  // launchPersistentContext gives Chromium the fresh --user-data-dir.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: FLAGS, timeout: 30_000,
  });
  const page = context.pages()[0] ?? await context.newPage();
  const typed = await signIn(page, url.href, cfg.target ?? 'target');
  if (typed === 0) throw new Error('no login field was ever typed into');
  const received = listener.seen.find((r) => r.url.startsWith('/cb'));
  if (!received || !new URL(received.url, cfg.redirect_base).searchParams.get('code')) throw new Error('the redirect_uri listener received no code');
  const tokens = await client.authorizationCodeGrant(c, new URL(received.url, cfg.redirect_base), {
    pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
  if (cfg.account.sub && tokens.claims().sub !== cfg.account.sub) throw new Error(`sub ${tokens.claims().sub}`);
  if (cfg.target === 'castellan') await mobileAndLabels(c);
  report(MODULE, 'pass');
  code = 0;
  try {
    await spa(page);
  } catch (e) {
    report(SPA_MODULE, 'fail', e.message.split('\n')[0]);
    code = 1;
  }
  if (cfg.target !== 'castellan') {
    report(A11Y_MODULE, 'skip', 'audits the target\'s own login pages; the reference OP\'s are its development interactions');
  } else {
    try {
      await accessibility(c);
      report(A11Y_MODULE, 'pass');
    } catch (e) {
      report(A11Y_MODULE, 'fail', e.message.split('\n')[0]);
      code = 1;
    }
  }
} catch (e) {
  const http = e.cause instanceof Response ? ` [HTTP ${e.cause.status} ${e.cause.url}]` : '';
  report(MODULE, 'fail', `${e.message.split('\n')[0]}${http}`);
} finally {
  await context?.close();
  await listener.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(code);
