#!/usr/bin/env bash
# CPU milliseconds per password login, by part: each server thread group (hashing, runtime,
# writer), PostgreSQL's processes when the server runs on PostgreSQL, and the load generator.
# Reads utime+stime from /proc before and after one oidc-login run (no perf needed), so the
# figures add up to the machine's work per login; compare the hashing threads' share with the
# argon2id ceiling's own CPU per verification (printed last, from a hash-ceiling run), and the
# server's database reads and commits per login (its /debug/metrics), and each server thread
# group's context switches per login (voluntary: it waited; involuntary: it was preempted).
# env: BIN_DIR (target/release) SECS (8) CONNECTIONS (8) PORT (18303)
#      HASH_MEMORY/HASH_ITERATIONS/HASH_PARALLELISM (19456/2/1)
#      URL: the database (default: a fresh SQLite file); a PostgreSQL URL must name an empty
#      database, and PostgreSQL's processes are counted as those of the user `postgres`.
set -euo pipefail
SECS=${SECS:-8} CONNECTIONS=${CONNECTIONS:-8} PORT=${PORT:-18303}
. "$(dirname "$0")/login_server.sh"
# Clock ticks of each server thread name, and of PostgreSQL's processes.
ticks() {
    { for t in /proc/$SERVER/task/*; do echo "$(cat "$t/comm") $(awk '{print $14 + $15}' "$t/stat")"; done
      for p in $(pgrep -u postgres || true); do echo "postgres $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)"; done
    } | awk '{a[$1] += $2} END {for (k in a) print k, a[k]}' | sort
}
# Context switches (voluntary + involuntary) of each server thread name.
switches() {
    for t in /proc/$SERVER/task/*; do
        echo "$(cat "$t/comm") $(awk '/^voluntary_ctxt/ {v = $2} /^nonvoluntary_ctxt/ {n = $2} END {print v, n}' "$t/status")"
    done | awk '{v[$1] += $2; n[$1] += $3} END {for (k in v) print k, v[k], n[k]}' | sort
}
# The server's database counters (reads, commits) from /debug/metrics.
db() { curl -s "localhost:$PORT/debug/metrics" | awk '/^castellan_db_(reads|commits)_total /{print $1, $2}' | sort; }
db >"$dir/d0"
ticks >"$dir/t0"
switches >"$dir/s0"
/usr/bin/time -f "%U %S" -o "$dir/load" "$LOAD" --addr "localhost:$PORT" --duration "$SECS" \
    --connections "$CONNECTIONS" --scenario oidc-login --client-id="$(json .clientId "$web")" \
    --client-secret="$(json .clientSecret "$web")" --login-name "$login" \
    --password 'Bench-Password-1!' --label login-cpu >"$dir/res"
ticks >"$dir/t1"
switches >"$dir/s1"
db >"$dir/d1"
n=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).ok' "$dir/res")
hz=$(getconf CLK_TCK)
echo "logins: $n in ${SECS} s ($(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).per_second' "$dir/res")/s)"
join "$dir/t0" "$dir/t1" | awk -v n="$n" -v hz="$hz" '$3 > $2 {printf "%-16s %7.3f ms/login\n", $1, ($3 - $2) * 1000 / hz / n}'
awk -v n="$n" '{printf "%-16s %7.3f ms/login\n", "load-generator", ($1 + $2) * 1000 / n}' "$dir/load"
join "$dir/s0" "$dir/s1" | awk -v n="$n" '$4 + $5 > $2 + $3 {printf "%-16s %5.1f voluntary %5.1f involuntary switches/login\n", $1, ($4 - $2) / n, ($5 - $3) / n}'
join "$dir/d0" "$dir/d1" | awk -v n="$n" '{sub(/^castellan_db_/, "", $1); sub(/_total$/, "", $1); printf "database %-7s %7.2f per login\n", $1, ($3 - $2) / n}'
/usr/bin/time -f "%U %S" -o "$dir/ceil" "$LOAD" --scenario hash-ceiling --duration "$SECS" --hash-memory "$HM" \
    --hash-iterations "$HI" --hash-parallelism "$HP" --label c >"$dir/c"
c=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).per_second' "$dir/c")
awk -v c="$c" -v s="$SECS" '{printf "argon2id ceiling %s/s, %.3f ms of CPU per verification\n", c, ($1 + $2) * 1000 / (c * s)}' "$dir/ceil"
