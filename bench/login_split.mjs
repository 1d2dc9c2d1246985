// Splits the CPU time of a password-login run, sampled machine-wide by `perf record -a -e
// cpu-clock`, into milliseconds per login: the argon2 hash, aws-lc (the RS256 ID token's
// signature, AES-GCM), the rest of the server's threads (HTTP, login pages, token endpoint,
// reads, and the interrupts that land on them), the database writer thread, the load
// generator, other processes (PostgreSQL, kernel threads) and idle time.
// Usage: perf report -i F --no-children --sort comm,dso,sym --stdio |
//          node bench/login_split.mjs LABEL 'LOGIN_JSON_LINE' SAMPLED_SECONDS
// argon2's block copies run in libc's memmove: memmove on the server's threads counts as hash
// (nearly all of it is argon2's: its share of a login run matches that of the hash-only
// ceiling run).
import { createInterface } from "node:readline";

const [label, loginLine, secs] = process.argv.slice(2);
const logins = JSON.parse(loginLine).per_second * Number(secs);
const sums = { hash: 0, aws_lc: 0, server: 0, writer: 0, load_generator: 0, other_processes: 0, idle: 0 };
let events = 0;
for await (const line of createInterface({ input: process.stdin })) {
  const count = line.match(/^# Event count \(approx\.\): (\d+)/);
  if (count) events = Number(count[1]);
  const m = line.match(/^\s*([\d.]+)%\s+(\S+)\s+(\S+)\s+\[.\]\s+(.*)$/);
  if (!m) continue;
  const [, pct, comm, dso, sym] = m;
  // The runtime's threads and the hashing threads (`castellan-hash`).
  const server = comm === "tokio-rt-worker" || comm === "castellan-hash";
  const key =
    comm === "swapper" ? "idle"
    : comm === "castellan-write" ? "writer"
    : comm === "load-generator" ? "load_generator"
    : !server ? "other_processes"
    : sym.includes("argon2::") || sym.includes("blake2::") || (dso.startsWith("libc") && sym.includes("memmove")) ? "hash"
    : sym.includes("aws_lc") || sym.includes("mulx4x") ? "aws_lc"
    : "server";
  sums[key] += Number(pct);
}
if (!events || !logins) {
  console.error("login_split: no samples or no logins");
  process.exit(1);
}
if (sums.hash < 10) {
  console.error("login_split: no argon2 in the profile (a build without its symbol table?)");
  process.exit(1);
}
const ms = (pct) => Math.round((pct / 100) * (events / 1e6) / logins * 1000) / 1000;
const out = { scenario: "oidc-login-split", label, per_second: JSON.parse(loginLine).per_second };
let total = 0;
for (const [k, v] of Object.entries(sums)) {
  out[`${k}_ms`] = ms(v);
  total += v;
}
out.total_ms = ms(total);
out.hash_share = Math.round((sums.hash / total) * 1000) / 10;
console.log(JSON.stringify(out));
