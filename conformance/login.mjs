// Headless login: a user agent over fetch that follows redirects, keeps cookies and fills the
// first form of each HTML page by field name, until the OP redirects to the RP (a URL under
// `stopAt`) or shows a page without a form (an error or a "logged out" page).
//
// The field map is per target (config.login.fields): input name -> value template, where
// {username}, {password} and {new_password} are replaced from the account. Hidden inputs
// (authRequestID, gorilla.csrf.Token, oidc-provider's prompt, ...) are echoed back as served.

/** A cookie jar keyed by host, name and path (enough for one OP on localhost). */
export class CookieJar {
  #cookies = new Map();

  store(url, response) {
    const { host, pathname } = new URL(url);
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = pathname.replace(/\/[^/]*$/, '') || '/';
      let expired = false;
      for (const attr of attrs) {
        const [k, v = ''] = attr.split('=');
        const key = k.trim().toLowerCase();
        if (key === 'path') path = v.trim() || '/';
        if (key === 'max-age' && Number(v) <= 0) expired = true;
        if (key === 'expires' && Date.parse(v) <= Date.now()) expired = true;
      }
      const id = `${host}\n${name}\n${path}`;
      if (expired) this.#cookies.delete(id);
      else this.#cookies.set(id, { host, name, value, path });
    }
  }

  header(url) {
    const { host, pathname } = new URL(url);
    const matching = [...this.#cookies.values()].filter((c) => c.host === host
      && (pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)));
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x27': "'", apos: "'", '#x2F': '/', '#47': '/' };
const decode = (s) => s.replace(/&(#?\w+);/g, (m, e) => ENTITIES[e] ?? (e.startsWith('#x') ? String.fromCodePoint(parseInt(e.slice(2), 16))
  : e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : m));
const attr = (tag, name) => {
  const m = tag.match(new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i'));
  return m ? decode(m[2] ?? m[3] ?? m[4]) : undefined;
};

/** The first form of an HTML page: action, method and the named controls with their values. */
export function firstForm(html, pageUrl) {
  const m = html.match(/<form\b[^>]*>[\s\S]*?<\/form>/i);
  if (!m) return undefined;
  const open = m[0].match(/<form\b[^>]*>/i)[0];
  // Controls inside the form, and those elsewhere that name it with form="id".
  const id = attr(open, 'id');
  const outside = id ? (html.match(/<(input|button)\b[^>]*>/gi) ?? []).filter((t) => attr(t, 'form') === id) : [];
  const inputs = [];
  for (const tag of [...(m[0].match(/<(input|button|select|textarea)\b[^>]*>/gi) ?? []), ...outside]) {
    const kind = tag.match(/^<(\w+)/)[1].toLowerCase();
    const name = attr(tag, 'name');
    if (!name) continue;
    const type = (attr(tag, 'type') ?? (kind === 'button' ? 'submit' : 'text')).toLowerCase();
    inputs.push({ kind, name, type, value: attr(tag, 'value') ?? '' });
  }
  return {
    action: new URL(attr(open, 'action') || pageUrl, pageUrl).href,
    method: (attr(open, 'method') ?? 'get').toUpperCase(),
    inputs,
  };
}

const fill = (template, account) => template
  .replaceAll('{username}', account.username ?? '')
  .replaceAll('{password}', account.password ?? '')
  .replaceAll('{new_password}', account.new_password ?? '');

/** The submission of a form: echoes controls, fills mapped fields, presses the first named submit. */
export function formBody(form, fields, account) {
  const body = new URLSearchParams();
  let pressed = false;
  for (const input of form.inputs) {
    if (input.type === 'submit') {
      if (!pressed) { body.append(input.name, input.value); pressed = true; }
      continue;
    }
    if (['checkbox', 'radio'].includes(input.type)) continue;
    body.append(input.name, input.name in fields ? fill(fields[input.name], account) : input.value);
  }
  return body;
}

/**
 * Walks from `url` until a redirect goes under `stopAt`. Returns
 * { redirect, pages, filled } on reaching it, or { page: {status, url, html}, pages, filled } when
 * the OP stops on a page without a form. `pages` lists every HTML page seen; `filled` counts the
 * forms whose mapped fields were filled (0 = the user was not asked to log in).
 */
export async function browse(url, { jar = new CookieJar(), fields, account, stopAt, maxSteps = 20, method = 'GET', body } = {}) {
  const pages = [];
  let filled = 0;
  let next = { url, method, body };
  for (let step = 0; step < maxSteps; step += 1) {
    const headers = { cookie: jar.header(next.url), accept: 'text/html' };
    if (next.body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(next.url, { method: next.method, headers, body: next.body, redirect: 'manual' });
    jar.store(next.url, res);
    if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
      const location = new URL(res.headers.get('location'), next.url).href;
      await res.arrayBuffer();
      if (stopAt && location.startsWith(stopAt)) return { redirect: location, pages, filled };
      next = { url: location, method: 'GET' };
      continue;
    }
    const html = await res.text();
    const page = { status: res.status, url: next.url, html };
    pages.push(page);
    const form = res.status < 400 ? firstForm(html, next.url) : undefined;
    if (!form) return { page, pages, filled };
    if (form.inputs.some((i) => i.name in fields)) filled += 1;
    if (filled > 6) throw new Error(`the OP keeps asking for credentials at ${next.url} (wrong password, or a field the map lacks?)`);
    const data = formBody(form, fields, account);
    next = form.method === 'POST'
      ? { url: form.action, method: 'POST', body: data.toString() }
      : { url: `${form.action.split('?')[0]}?${data}`, method: 'GET' };
  }
  throw new Error(`login did not finish within ${maxSteps} steps (last: ${next.url})`);
}

// CLI: node login.mjs <target-config.json> <authorization-url> prints the URL the OP redirected
// to under the config's redirect_base (used by the Rust openidconnect subset).
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const { readFileSync } = await import('node:fs');
  const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const res = await browse(process.argv[3], { fields: cfg.login.fields, account: cfg.account, stopAt: cfg.redirect_base });
  if (!res.redirect) {
    process.stderr.write(`stopped on ${res.page.status} ${res.page.url}\n`);
    process.exit(1);
  }
  process.stdout.write(`${res.redirect}\n`);
}
