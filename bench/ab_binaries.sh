#!/usr/bin/env bash
# A/B of two server binaries on one scenario, one server at a time, alternating ROUNDS times
# (a fresh SQLite instance each run; the scenario calls with its IAM_OWNER PAT): prints "<label> <scenario> <requests/s>" lines.
# Usage: bench/ab_binaries.sh OLD_BINARY NEW_BINARY   env: SCENARIO (noop) SECS (5) ROUNDS (3)
#        CONNECTIONS (32) LOAD (target/release/castellan-bench) PORT (18510)
set -euo pipefail
OLD=$1 NEW=$2
SCENARIO=${SCENARIO:-noop} SECS=${SECS:-5} ROUNDS=${ROUNDS:-3} CONNECTIONS=${CONNECTIONS:-32}
LOAD=${LOAD:-target/release/castellan-bench} PORT=${PORT:-18510}
run() { # binary label
    local dir pid
    dir=$(mktemp -d /tmp/ab_binaries.XXXX)
    (cd "$dir" && exec env CASTELLAN_MASTERKEY=MasterkeyNeedsToHave32Characters CASTELLAN_PORT="$PORT" \
        CASTELLAN_EXTERNALPORT="$PORT" CASTELLAN_DATABASE_URL="sqlite://$dir/c.db" \
        CASTELLAN_FIRSTINSTANCE_PATPATH="$dir/pat.txt" CASTELLAN_LOG_LEVEL=warn \
        "$1" start-from-init --masterkey-from-env --tls-mode disabled >"$dir/out" 2>"$dir/err") &
    pid=$!
    for _ in $(seq 1 100); do curl -sf "localhost:$PORT/debug/ready" >/dev/null && break; sleep 0.1; done
    echo "$2 $SCENARIO $("$LOAD" --addr "localhost:$PORT" --duration "$SECS" --connections "$CONNECTIONS" \
        --scenario "$SCENARIO" --pat-file "$dir/pat.txt" --label ab |
        node -pe 'JSON.parse(require("fs").readFileSync(0)).per_second')"
    kill "$pid"; wait "$pid" 2>/dev/null || true; rm -rf "$dir"
}
for _ in $(seq 1 "$ROUNDS"); do run "$(realpath "$OLD")" old; run "$(realpath "$NEW")" new; done
