# Sourced by bench/login_ab.sh and bench/login_cpu.sh: starts a release server with the
# password hasher's parameters, waits for it, and sets up a web app and a human to log in.
# In: BIN_DIR (target/release) PORT HASH_MEMORY/HASH_ITERATIONS/HASH_PARALLELISM (19456/2/1)
#     URL (default: a fresh SQLite file in the run's directory).
# Out: BIN LOAD HM HI HP dir SERVER (its pid; killed, and dir removed, on exit) web (the app's
#      AddOIDCApp answer) login (the human's login name), the json helper.
D=${BIN_DIR:-target/release}
BIN=$(realpath "$D/castellan") LOAD=$(realpath "$D/castellan-bench")
HM=${HASH_MEMORY:-19456} HI=${HASH_ITERATIONS:-2} HP=${HASH_PARALLELISM:-1}
dir=$(mktemp -d /tmp/login_bench.XXXX)
(cd "$dir" && exec env CASTELLAN_MASTERKEY=MasterkeyNeedsToHave32Characters CASTELLAN_PORT="$PORT" \
    CASTELLAN_EXTERNALPORT="$PORT" CASTELLAN_DATABASE_URL="${URL:-sqlite://$dir/c.db}" \
    CASTELLAN_FIRSTINSTANCE_PATPATH="$dir/pat.txt" CASTELLAN_LOG_LEVEL=warn \
    CASTELLAN_PASSWORDHASHER_MEMORY="$HM" CASTELLAN_PASSWORDHASHER_ITERATIONS="$HI" \
    CASTELLAN_PASSWORDHASHER_PARALLELISM="$HP" \
    "$BIN" start-from-init --masterkey-from-env --tls-mode disabled >"$dir/out" 2>"$dir/err") &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do curl -sf "localhost:$PORT/debug/ready" >/dev/null && break; sleep 0.1; done
pat=$(cat "$dir/pat.txt")
json() { node -pe "JSON.parse(process.argv[1])$1" "$2"; }
mgmt() { curl -sf -X "$1" "localhost:$PORT$2" -H "authorization: Bearer $pat" -H 'content-type: application/json' -d "$3"; }
project=$(json .id "$(mgmt POST /management/v1/projects '{"name":"login-bench"}')")
web=$(mgmt POST "/management/v1/projects/$project/apps/oidc" '{"name":"web","redirectUris":["https://rp.example.com/cb"],"responseTypes":["OIDC_RESPONSE_TYPE_CODE"],"grantTypes":["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"],"appType":"OIDC_APP_TYPE_WEB","authMethodType":"OIDC_AUTH_METHOD_TYPE_BASIC"}')
human=$(json .userId "$(mgmt POST /management/v1/users/human/_import '{"userName":"login-bench","profile":{"firstName":"L","lastName":"B"},"email":{"email":"login-bench@example.com","isEmailVerified":true},"password":"Bench-Password-1!","passwordChangeRequired":false}')")
login=$(json .user.preferredLoginName "$(curl -sf "localhost:$PORT/management/v1/users/$human" -H "authorization: Bearer $pat")")
