#!/usr/bin/env bash
# Alternates argon2id ceiling runs and password-login runs against one server (SQLite, or the
# empty database URL names) and prints each login slice's ratio to the mean of the ceilings
# around it, then the whole run's.
# For quick experiments between full bench/run.sh runs.
# env: BIN_DIR (target/release) ROUNDS (4) SECS (6) CONNECTIONS (8) PORT (18301)
#      HASH_MEMORY/HASH_ITERATIONS/HASH_PARALLELISM (19456/2/1)
#      PIN=1: one hashing thread pinned to each core, every other server thread and the load
#      generator to core 0 (taskset), to see what keeping a core free of all but hashing gives.
#      BATCH=1: every server thread but the hashing ones under SCHED_BATCH (chrt -b), so that a
#      woken request thread does not preempt a hash.
set -euo pipefail
SECS=${SECS:-6} ROUNDS=${ROUNDS:-4} CONNECTIONS=${CONNECTIONS:-8} PORT=${PORT:-18301}
. "$(dirname "$0")/login_server.sh"
pin=()
if [ "${PIN:-0}" = 1 ]; then
    n=0
    for t in /proc/$SERVER/task/*; do
        if [ "$(cat "$t/comm")" = castellan-hash ]; then
            n=$((n + 1)); taskset -p -c $((n % 2)) "${t##*/}" >/dev/null
        else
            taskset -p -c 0 "${t##*/}" >/dev/null
        fi
    done
    pin=(taskset -c 0)
fi
if [ "${BATCH:-0}" = 1 ]; then
    for t in /proc/$SERVER/task/*; do
        [ "$(cat "$t/comm")" = castellan-hash ] || chrt -b -p 0 "${t##*/}" >/dev/null
    done
fi
rate() { node -pe 'JSON.parse(require("fs").readFileSync(0)).per_second'; }
ceiling() { "$LOAD" --scenario hash-ceiling --duration "$SECS" --hash-memory "$HM" --hash-iterations "$HI" --hash-parallelism "$HP" --label c | rate; }
logins() { "${pin[@]}" "$LOAD" --addr "localhost:$PORT" --duration "$SECS" --connections "$CONNECTIONS" --scenario oidc-login \
    --client-id="$(json .clientId "$web")" --client-secret="$(json .clientSecret "$web")" --login-name "$login" \
    --password 'Bench-Password-1!' --label ab | rate; }
logins >/dev/null # warm-up
prev=$(ceiling) sum_l=0 sum_c=0
for r in $(seq 1 "$ROUNDS"); do
    l=$(logins); c=$(ceiling)
    echo "slice $r: ceilings $prev / $c, logins $l/s = $(node -pe "($l / (($prev + $c) / 2) * 100).toFixed(1)") %"
    sum_l=$(node -pe "$sum_l + $l"); sum_c=$(node -pe "$sum_c + ($prev + $c) / 2"); prev=$c
done
echo "all: $(node -pe "($sum_l / $sum_c * 100).toFixed(1)") % of the ceiling"
