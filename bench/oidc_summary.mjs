// Prints the OIDC ratios of one bench/run.sh run (issue 4) from its JSON lines:
//   node bench/oidc_summary.mjs bench/results/latest.jsonl
import { readFileSync } from "node:fs";

const lines = readFileSync(process.argv[2], "utf8").split("\n").filter((l) => l.startsWith("{"));
const rows = lines.map((l) => JSON.parse(l));
const find = (scenario, label) => rows.find((r) => r.scenario === scenario && r.label === label);
const fmt = (n) => (n === undefined ? "-" : Math.round(n).toLocaleString("en-US"));
const peer = (s) => find(s, "oidc-provider")?.per_second;
const hash = find("hash-ceiling", "argon2id");
// Published anchors per vCPU: ZITADEL (42 vCPU) and Keycloak's sizing guide.
const zitadel = { "oidc-introspect": 4810 / 42, "oidc-userinfo": 8984 / 42, "oidc-jwt-profile": 2334 / 42,
  "oidc-client-credentials": 2006 / 42, "oidc-login": 78 / 42 };
const keycloak = { "oidc-client-credentials": 120, "oidc-login": 15 };
const rauthy = { "oidc-introspect": 8439, "oidc-userinfo": 8216 };
const cores = Number(process.env.CORES || 2);
if (hash) console.log(`argon2id ceiling: ${hash.per_second}/s on ${hash.threads} threads`);
for (const db of ["sqlite", "postgres"]) {
  const noop = find("noop", db);
  if (!noop) continue;
  console.log(`\n${db}: no-op ${fmt(noop.per_second)}/s`);
  const show = (name, r, extra = "") => {
    if (!r) return;
    const perCore = r.per_second / cores;
    const z = zitadel[r.scenario] ? `, per core ${(perCore / zitadel[r.scenario]).toFixed(1)}x ZITADEL` : "";
    const k = keycloak[r.scenario] ? `, ${(perCore / keycloak[r.scenario]).toFixed(1)}x Keycloak` : "";
    console.log(`  ${name}: ${fmt(r.per_second)}/s p99 ${r.p99_ms} ms (${((100 * r.per_second) / noop.per_second).toFixed(1)}% of no-op${z}${k})${extra}${r.errors ? ` ERRORS: ${r.errors}` : ""}`);
  };
  const vs = (s, v, who) => (v ? `; ${(find(s, db)?.per_second / v).toFixed(2)}x ${who}` : "");
  show("client_credentials opaque", find("oidc-client-credentials", db), vs("oidc-client-credentials", peer("oidc-client-credentials"), "oidc-provider"));
  show("client_credentials RS256 JWT", find("oidc-client-credentials", `${db}-jwt-rs256`), " (target 2,500/s)");
  show("client_credentials EdDSA JWT", find("oidc-client-credentials", `${db}-jwt-eddsa`), " (rauthy 2,468/s)");
  show("introspection", find("oidc-introspect", db), vs("oidc-introspect", peer("oidc-introspect"), "oidc-provider") + vs("oidc-introspect", rauthy["oidc-introspect"], "rauthy"));
  show("userinfo", find("oidc-userinfo", db), vs("oidc-userinfo", peer("oidc-userinfo"), "oidc-provider") + vs("oidc-userinfo", rauthy["oidc-userinfo"], "rauthy"));
  show("JWT profile grant", find("oidc-jwt-profile", db), " (target 2,500/s)");
  // The logins run in slices, each between two ceiling measurements: the rate of all slices
  // against the mean of the ceilings around each (else the run's first ceiling).
  const slices = [];
  let before;
  for (const r of rows) {
    if (r.scenario === "hash-ceiling" && r.label === `${db}-login-ceiling`) {
      if (slices.length && slices[slices.length - 1].after === undefined) slices[slices.length - 1].after = r.per_second;
      before = r.per_second;
    } else if (r.scenario === "oidc-login" && r.label === db) {
      slices.push({ login: r, before });
    }
  }
  const done = slices.filter((x) => x.before !== undefined && x.after !== undefined);
  const sum = (f) => done.reduce((s, x) => s + f(x), 0);
  const login = slices[0]?.login && {
    ...slices[0].login,
    per_second: slices.reduce((s, x) => s + x.login.per_second, 0) / slices.length,
    p99_ms: Math.max(...slices.map((x) => x.login.p99_ms)),
  };
  const ceiling = done.length ? sum((x) => (x.before + x.after) / 2) / done.length : hash?.per_second;
  const rate = done.length ? sum((x) => x.login.per_second) / done.length : login?.per_second;
  const each = done.map((x) => `${x.login.per_second} against ${x.before} / ${x.after}`).join("; ");
  show("password login", login, ceiling && login ? `; ${((100 * rate) / ceiling).toFixed(1)}% of the hash ceiling ${ceiling.toFixed(1)}/s (slices: ${each})` : "");
  const issue = rows.find((r) => r.scenario === "oidc-issue" && r.label === db);
  if (issue) {
    console.log(`  issued ${fmt(issue.tokens)} tokens in ${issue.seconds.toFixed(1)} s (${fmt(issue.per_second)}/s, ${issue.errors} errors)`);
    for (const s of ["oidc-client-credentials", "oidc-introspect"]) {
      const after = find(s, `${db}-after-${issue.tokens}`);
      console.log(`  ${s} p99 fresh ${find(s, db)?.p99_ms} ms -> after ${after?.p99_ms} ms`);
    }
  }
}
console.log("");
for (const s of ["oidc-client-credentials", "oidc-introspect", "oidc-userinfo"]) {
  const r = find(s, "oidc-provider");
  if (r) console.log(`oidc-provider ${s}: ${fmt(r.per_second)}/s p99 ${r.p99_ms} ms`);
}
