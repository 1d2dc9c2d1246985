#!/usr/bin/env bash
# Runs the benchmark scenarios against a release build, on SQLite and on PostgreSQL, in one
# run, and prints one JSON line per measurement (also appended to bench/results/latest.jsonl).
# Usage: bench/run.sh [seconds-per-scenario] [users-to-seed]   (BACKENDS="sqlite postgres" by default)
#   PEERS="oidc-provider" also measures the OIDC scenarios on npm oidc-provider (needs
#   `npm ci` in conformance/); BACKENDS="" PEERS=oidc-provider bench/run.sh 3 runs only that.
#   OIDC=1 adds Castellan's OIDC scenarios (issue 4): client_credentials with opaque, RS256 JWT
#   and EdDSA JWT access tokens, introspection, userinfo, JWT profile grant, full password
#   login through the hosted login, p99 before/after issuing ISSUE tokens (default 1,000,000),
#   and the argon2id ceiling of this machine (HASH_MEMORY KiB / HASH_ITERATIONS /
#   HASH_PARALLELISM, the server's PasswordHasher, default 19456 / 2 / 1); CONNECTIONS (32) and
#   LOGIN_CONNECTIONS (8) set the OIDC scenarios' concurrency; the password logins run in
#   LOGIN_ROUNDS (3) slices, each between two measurements of the hash ceiling.
#   LOGIN_SPLIT=1 (needs `perf`) samples the machine during the password logins and adds a
#   line with the CPU milliseconds per login by part (bench/login_split.mjs); it builds into
#   target/symbols, keeping the symbol table.
#   ONLY=oidc runs just that (plus each backend's no-op baseline):
#   ONLY=oidc PEERS=oidc-provider bench/run.sh 10
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"
USERS="${2:-100000}"
BACKENDS="${BACKENDS-sqlite postgres}"
ONLY="${ONLY:-}"
[ "$ONLY" = oidc ] && OIDC=1
ISSUE="${ISSUE:-1000000}"
HASH_MEMORY="${HASH_MEMORY:-19456}"
HASH_ITERATIONS="${HASH_ITERATIONS:-2}"
HASH_PARALLELISM="${HASH_PARALLELISM:-1}"
LOGIN_CONNECTIONS="${LOGIN_CONNECTIONS:-8}"
LOGIN_ROUNDS="${LOGIN_ROUNDS:-3}"
CONNECTIONS="${CONNECTIONS:-32}"   # of the other OIDC scenarios
if [ "${LOGIN_SPLIT:-0}" = 1 ]; then
    # The split names functions (argon2, aws-lc): a release build that keeps its symbol table.
    export CARGO_PROFILE_RELEASE_STRIP=false CARGO_TARGET_DIR=target/symbols
fi
if [ -n "$BACKENDS" ]; then
    cargo build --release -p castellan-server -p castellan-bench
else
    cargo build --release -p castellan-bench
fi
# Absolute, so that a server started in its own directory finds its binary whether
# CARGO_TARGET_DIR is relative or absolute.
BIN=$(realpath -m "${CARGO_TARGET_DIR:-target}/release/castellan")
LOAD=$(realpath "${CARGO_TARGET_DIR:-target}/release/castellan-bench")
mkdir -p bench/results
OUT=bench/results/latest.jsonl
: > "$OUT"
WORK=$(mktemp -d /tmp/castellan-bench.XXXXXX)
chmod 755 "$WORK"
PGDIR=""
cleanup() {
    [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null || true
    [ -n "${PEER:-}" ] && kill "$PEER" 2>/dev/null || true
    if [ -n "$PGDIR" ]; then runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# The OIDC scenarios at $CONNECTIONS connections against the OP at $2 (host:port): client_credentials
# with the machine client ($3:$4), introspection of the user access token $7 by the API
# client ($5:$6), userinfo with that token. Castellan's run calls it once its token,
# introspection and userinfo endpoints exist (clients made through the management API, as
# crates/testkit/src/conformance.rs does).
run_oidc() {
    local label="$1" addr="$2"
    # client_credentials last: oidc-provider's in-memory store is an LRU of 1,000 entries and
    # the thousands of tokens it issues would evict the user token.
    record "$($LOAD --addr "$addr" --scenario oidc-introspect --duration "$SECS" --connections "$CONNECTIONS" --client-id="$5" --client-secret="$6" --token "$7" --label "$label")"
    record "$($LOAD --addr "$addr" --scenario oidc-userinfo --duration "$SECS" --connections "$CONNECTIONS" --token "$7" --label "$label")"
    record "$($LOAD --addr "$addr" --scenario oidc-client-credentials --duration "$SECS" --connections "$CONNECTIONS" --client-id="$3" --client-secret="$4" --label "$label")"
}

# Castellan's OIDC scenarios (OIDC=1): through the management API an API app (introspection),
# a machine user with a secret and opaque tokens (client_credentials; its token is the one
# introspected and sent to userinfo) and a machine key (JWT profile grant), a machine user
# with JWT access tokens, and a web app with a human (password login). $4: the server's
# work directory.
json() { node -pe "JSON.parse(process.argv[1])$1" "$2"; }
run_castellan_oidc() {
    local label="$1" port="$2" pat="$3" dir="$4" api="localhost:$2" project app machine secret token
    local jwtm jsecret web human login cc jcc intro
    mgmt() { curl -sf -X "$1" "localhost:$port$2" -H "authorization: Bearer $pat" -H 'content-type: application/json' -d "$3"; }
    project=$(json .id "$(mgmt POST /management/v1/projects '{"name":"bench-oidc"}')")
    app=$(mgmt POST "/management/v1/projects/$project/apps/api" '{"name":"bench-introspect","authMethodType":"API_AUTH_METHOD_TYPE_BASIC"}')
    machine=$(json .userId "$(mgmt POST /management/v1/users/machine '{"userName":"bench-oidc","name":"Bench OIDC"}')")
    secret=$(mgmt PUT "/management/v1/users/$machine/secret" '{}')
    token=$(json .access_token "$(curl -sf "localhost:$port/oauth/v2/token" -u "$(json .clientId "$secret"):$(json .clientSecret "$secret")" \
        -d grant_type=client_credentials --data-urlencode "scope=openid profile urn:zitadel:iam:org:project:id:$project:aud")")
    mgmt POST "/management/v1/users/$machine/keys" '{"type":"KEY_TYPE_JSON"}' >"$dir/machine-key.json"
    jwtm=$(json .userId "$(mgmt POST /management/v1/users/machine '{"userName":"bench-jwt","name":"Bench JWT","accessTokenType":"ACCESS_TOKEN_TYPE_JWT"}')")
    jsecret=$(mgmt PUT "/management/v1/users/$jwtm/secret" '{}')
    web=$(mgmt POST "/management/v1/projects/$project/apps/oidc" '{"name":"bench-web","redirectUris":["https://rp.example.com/cb"],"responseTypes":["OIDC_RESPONSE_TYPE_CODE"],"grantTypes":["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"],"appType":"OIDC_APP_TYPE_WEB","authMethodType":"OIDC_AUTH_METHOD_TYPE_BASIC"}')
    human=$(json .userId "$(mgmt POST /management/v1/users/human/_import '{"userName":"bench-login","profile":{"firstName":"Bench","lastName":"Login"},"email":{"email":"bench-login@example.com","isEmailVerified":true},"password":"Bench-Password-1!","passwordChangeRequired":false}')")
    login=$(json .user.preferredLoginName "$(curl -sf "localhost:$port/management/v1/users/$human" -H "authorization: Bearer $pat")")
    cc=(--client-id="$(json .clientId "$secret")" --client-secret="$(json .clientSecret "$secret")")
    jcc=(--client-id="$(json .clientId "$jsecret")" --client-secret="$(json .clientSecret "$jsecret")")
    intro=(--client-id="$(json .clientId "$app")" --client-secret="$(json .clientSecret "$app")" --token "$token")
    oidc() { record "$($LOAD --addr "$api" --duration "$SECS" --connections "${CONNS:-$CONNECTIONS}" "$@")"; }
    # p99 on a fresh server first (compared with the same after $ISSUE more tokens below).
    oidc --scenario oidc-client-credentials "${cc[@]}" --label "$label"
    oidc --scenario oidc-introspect "${intro[@]}" --label "$label"
    oidc --scenario oidc-userinfo --token "$token" --label "$label"
    oidc --scenario oidc-client-credentials "${jcc[@]}" --label "$label-jwt-rs256"
    oidc --scenario oidc-jwt-profile --key-file "$dir/machine-key.json" --label "$label"
    # The hash ceiling moves by up to 10 % within a minute on this shared machine: the logins
    # run in $LOGIN_ROUNDS slices of $SECS seconds, each between two ceiling measurements
    # (the idle server beside them), and are compared with the mean of the ceilings around
    # each slice (bench/oidc_summary.mjs). The first slice is sampled when LOGIN_SPLIT=1.
    hash_ceiling "$label-login-ceiling"
    local sampler="" round
    for round in $(seq 1 "$LOGIN_ROUNDS"); do
        if [ "${LOGIN_SPLIT:-0}" = 1 ] && [ "$round" = 1 ]; then
            perf record -a -e cpu-clock -F 999 -o "$WORK/login.perf" -- sleep "$((SECS - 1))" >/dev/null 2>&1 &
            sampler=$!
        fi
        CONNS=$LOGIN_CONNECTIONS oidc --scenario oidc-login --client-id="$(json .clientId "$web")" \
            --client-secret="$(json .clientSecret "$web")" --login-name "$login" --password 'Bench-Password-1!' --label "$label"
        if [ -n "$sampler" ]; then
            wait "$sampler"
            perf report -i "$WORK/login.perf" --no-children --sort comm,dso,sym --stdio 2>/dev/null |
                node bench/login_split.mjs "$label" "$(tail -1 "$OUT")" "$((SECS - 1))" | tee -a "$OUT"
            sampler=""
        fi
        hash_ceiling "$label-login-ceiling"
    done
    record "$($LOAD --addr "$api" --scenario oidc-issue --count "$ISSUE" --connections "$CONNECTIONS" "${cc[@]}" --label "$label")"
    oidc --scenario oidc-client-credentials "${cc[@]}" --label "$label-after-$ISSUE"
    oidc --scenario oidc-introspect "${intro[@]}" --label "$label-after-$ISSUE"
}

# client_credentials with EdDSA JWT access tokens: a second server (fresh SQLite database)
# whose signing keys are EdDSA (SystemDefaults.KeyConfig.Algorithm).
run_castellan_eddsa() {
    local label=sqlite-jwt-eddsa port=18183 pat jwtm jsecret
    start_server "$label" "sqlite://$WORK/$label/castellan.db" "$port" CASTELLAN_SYSTEMDEFAULTS_KEYCONFIG_ALGORITHM=EdDSA
    pat=$(cat "$WORK/$label/pat.txt")
    jwtm=$(json .userId "$(curl -sf -X POST "localhost:$port/management/v1/users/machine" -H "authorization: Bearer $pat" -H 'content-type: application/json' \
        -d '{"userName":"bench-jwt","name":"Bench JWT","accessTokenType":"ACCESS_TOKEN_TYPE_JWT"}')")
    jsecret=$(curl -sf -X PUT "localhost:$port/management/v1/users/$jwtm/secret" -H "authorization: Bearer $pat" -H 'content-type: application/json' -d '{}')
    record "$($LOAD --addr "localhost:$port" --scenario oidc-client-credentials --duration "$SECS" --connections "$CONNECTIONS" \
        --client-id="$(json .clientId "$jsecret")" --client-secret="$(json .clientSecret "$jsecret")" --label "$label")"
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
    SERVER=""
}

# Peer: npm oidc-provider (the conformance suite's reference OP, opaque tokens, in memory).
run_peer_oidc_provider() {
    local ready port token
    node conformance/reference-op.mjs --bench --port 18190 >"$WORK/peer.json" 2>/dev/null &
    PEER=$!
    for _ in $(seq 1 100); do [ -s "$WORK/peer.json" ] && break; sleep 0.1; done
    ready=$(cat "$WORK/peer.json")
    port=$(node -pe "JSON.parse(process.argv[1]).port" "$ready")
    token=$(node -pe "JSON.parse(process.argv[1]).userinfo_token" "$ready")
    run_oidc oidc-provider "localhost:$port" machine machine-secret api api-secret "$token"
    kill "$PEER"; wait "$PEER" 2>/dev/null || true
    PEER=""
}

# The password hash's own ceiling: verifications on every core, no server work ($1: label).
hash_ceiling() {
    record "$($LOAD --scenario hash-ceiling --duration "$SECS" --hash-memory "$HASH_MEMORY" \
        --hash-iterations "$HASH_ITERATIONS" --hash-parallelism "$HASH_PARALLELISM" --label "$1")"
}

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
record() { echo "$1" | tee -a "$OUT"; }

# Starts the server ($1 label, $2 database URL, $3 port, then extra VAR=value settings) in
# $WORK/$1 and waits until it is ready.
start_server() {
    local label="$1" url="$2" port="$3"
    shift 3
    local dir="$WORK/$label"
    mkdir -p "$dir"
    (cd "$dir" && exec env CASTELLAN_MASTERKEY=MasterkeyNeedsToHave32Characters CASTELLAN_PORT="$port" CASTELLAN_EXTERNALPORT="$port" \
        CASTELLAN_DATABASE_URL="$url" CASTELLAN_FIRSTINSTANCE_PATPATH="$dir/pat.txt" CASTELLAN_LOG_LEVEL=warn \
        CASTELLAN_PASSWORDHASHER_MEMORY="$HASH_MEMORY" CASTELLAN_PASSWORDHASHER_ITERATIONS="$HASH_ITERATIONS" \
        CASTELLAN_PASSWORDHASHER_PARALLELISM="$HASH_PARALLELISM" "$@" \
        "$BIN" start-from-init --masterkey-from-env --tls-mode disabled >"$dir/out.txt" 2>"$dir/err.txt") &
    SERVER=$!
    for _ in $(seq 1 100); do curl -sf "localhost:$port/debug/ready" >/dev/null && break; sleep 0.1; done
    sleep 1
}

run_backend() {
    local label="$1" url="$2" port="$3"
    local dir="$WORK/$label"
    start_server "$label" "$url" "$port"
    record "{\"scenario\":\"idle_memory\",\"label\":\"$label\",\"rss_mb\":$(rss_mb $SERVER)}"
    for s in noop pat manipulate; do
        [ "$ONLY" = oidc ] && [ $s != noop ] && continue
        record "$($LOAD --addr "localhost:$port" --scenario $s --duration "$SECS" --pat-file "$dir/pat.txt" --label "$label")"
    done
    if [ "${OIDC:-0}" = 1 ]; then
        run_castellan_oidc "$label" "$port" "$(cat "$dir/pat.txt")" "$dir"
    fi
    if [ "$ONLY" = oidc ]; then
        kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
        SERVER=""
        return
    fi
    record "$($LOAD --addr "localhost:$port" --scenario seed --count "$USERS" --connections 16 --pat-file "$dir/pat.txt" --label "$label")"
    if [ "$label" = postgres ]; then
        # Steady state: PostgreSQL's autovacuum would analyze the fresh 100k rows within a
        # minute or so; until then its row estimates are those of an empty table.
        runuser -u postgres -- "$PGBIN/psql" -h 127.0.0.1 -p 18432 -U castellan -d castellan -qc "ANALYZE" >/dev/null
    fi
    record "$($LOAD --addr "localhost:$port" --scenario list-users --duration "$SECS" --connections 16 --pat-file "$dir/pat.txt" --label "$label")"
    record "$($LOAD --addr "localhost:$port" --scenario list-users --duration "$SECS" --connections 4 --pat-file "$dir/pat.txt" --label "$label")"
    if [ "$label" = postgres ]; then
        # The same query shape straight against PostgreSQL, for comparison.
        bench/pg_baseline.sh 127.0.0.1 18432 castellan castellan "$SECS" | tee -a "$OUT"
    fi
    # Projects and grants: 1,000 projects, 100,000 user grants, a caller with 1,000 project
    # memberships.
    record "$($LOAD --addr "localhost:$port" --scenario seed-grants --connections 16 --pat-file "$dir/pat.txt" --state "$dir/grants.json" --label "$label")"
    if [ "$label" = postgres ]; then
        runuser -u postgres -- "$PGBIN/psql" -h 127.0.0.1 -p 18432 -U castellan -d castellan -qc "ANALYZE" >/dev/null
    fi
    for s in list-user-grants list-projects perm-org perm-check; do
        record "$($LOAD --addr "localhost:$port" --scenario $s --duration "$SECS" --connections 16 --pat-file "$dir/pat.txt" --state "$dir/grants.json" --label "$label")"
    done
    # The list queries again with fewer connections than 16 on 2 shared cores (queueing apart).
    for s in list-user-grants list-projects; do
        record "$($LOAD --addr "localhost:$port" --scenario $s --duration "$SECS" --connections 4 --pat-file "$dir/pat.txt" --state "$dir/grants.json" --label "$label")"
    done
    record "$($LOAD --addr "localhost:$port" --scenario noop --duration "$SECS" --pat-file "$dir/pat.txt" --label "$label-after-seed")"
    sleep 2
    record "{\"scenario\":\"idle_memory_after_seed\",\"label\":\"$label\",\"rss_mb\":$(rss_mb $SERVER)}"
    kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
    SERVER=""
}

if [ "${OIDC:-0}" = 1 ]; then
    # The password hash's own ceiling on this machine (no server running).
    hash_ceiling argon2id
fi
if [[ " $BACKENDS " == *" sqlite "* ]]; then
    run_backend sqlite "sqlite://$WORK/sqlite/castellan.db" 18181
    [ "${OIDC:-0}" = 1 ] && run_castellan_eddsa
fi
if [[ " ${PEERS:-} " == *" oidc-provider "* ]]; then
    run_peer_oidc_provider
fi
summary() { [ "${OIDC:-0}" != 1 ] || node bench/oidc_summary.mjs "$OUT"; }
[[ " $BACKENDS " == *" postgres "* ]] || { summary; exit 0; }

# PostgreSQL: a throwaway server from the machine's binaries, fsync on.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGDIR="$WORK/pg"
mkdir -p "$PGDIR"
chown postgres "$PGDIR"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U castellan --no-sync >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" -o "-p 18432 -k $PGDIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" -w start >/dev/null
runuser -u postgres -- "$PGBIN/psql" -h 127.0.0.1 -p 18432 -U castellan -d postgres -qc "CREATE DATABASE castellan" >/dev/null
run_backend postgres "postgres://castellan@127.0.0.1:18432/castellan" 18182
summary
