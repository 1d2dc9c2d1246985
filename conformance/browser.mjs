// One code flow through the target's real login pages in headless Debian Chromium (driven by
// playwright-core): types the login name and password into the fields of the per-target field
// map, presses the submit button, screenshots every page, and checks that the RP's redirect_uri
// received a code that openid-client redeems (state, nonce, PKCE, iss and ID token signature
// checked). Prints one JSON result line like suite.mjs.
// Usage: node browser.mjs <target-config.json>   (env CHROMIUM overrides /usr/bin/chromium)
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import * as client from 'openid-client';
import { loadConfig, clientConfig, callbackUri, startListener, report } from './target.mjs';

const MODULE = 'browser-code-flow';
const cfg = loadConfig(process.argv[2]);
const here = path.dirname(fileURLToPath(import.meta.url));
const shots = cfg.screenshots_dir ?? path.join(here, '..', 'target', 'conformance-screenshots');
mkdirSync(shots, { recursive: true });
const profile = mkdtempSync(path.join(tmpdir(), 'castellan-chromium-'));
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

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
  await phone.screenshot({ path: path.join(shots, `${cfg.target}-mobile.png`), fullPage: true });
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) throw new Error(`the login page scrolls sideways on a 390 px screen (${overflow} px)`);
  const unlabelled = await phone.evaluate(() => [...document.querySelectorAll('input:not([type=hidden])')]
    .filter((i) => i.labels.length === 0 && !i.getAttribute('aria-label')).map((i) => i.name));
  if (unlabelled.length) throw new Error(`fields without a label: ${unlabelled.join(', ')}`);
  await phone.close();
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
  await page.goto(url.href);
  let typed = 0;
  for (let step = 1; step <= 10 && !page.url().startsWith(callbackUri(cfg)); step += 1) {
    await page.screenshot({ path: path.join(shots, `${cfg.target ?? 'target'}-${String(step).padStart(2, '0')}.png`), fullPage: true });
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
  await page.screenshot({ path: path.join(shots, `${cfg.target ?? 'target'}-99-callback.png`) });
  const landed = page.url();
  if (!landed.startsWith(callbackUri(cfg))) throw new Error(`never reached the redirect_uri (last page ${landed})`);
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
} catch (e) {
  const http = e.cause instanceof Response ? ` [HTTP ${e.cause.status} ${e.cause.url}]` : '';
  report(MODULE, 'fail', `${e.message.split('\n')[0]}${http}`);
} finally {
  await context?.close();
  await listener.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(code);
