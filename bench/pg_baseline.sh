#!/usr/bin/env bash
# PostgreSQL's own latency for the ListUsers prefix query (count + page), without Castellan:
# pgbench with 1 and 2 clients against a database seeded by `castellan-bench --scenario seed`.
# Usage: bench/pg_baseline.sh HOST PORT USER DB [seconds]
set -euo pipefail
HOST="$1" PORT="$2" USER="$3" DB="$4" SECS="${5:-5}"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
Q="$PGBIN/psql -h $HOST -p $PORT -U $USER -d $DB -Atc"
INST=$($Q "SELECT instance_id FROM users WHERE username = 'user000001'")
ORG=$($Q "SELECT org_id FROM users WHERE username = 'user000001'")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/q.sql" <<SQL
\set p random(0, 9999)
SELECT count(*) FROM users WHERE instance_id = '$INST' AND org_id = '$ORG' AND username LIKE 'user' || lpad(:p::text, 4, '0') || '%';
SELECT id, username, login_name, first_name, last_name, email FROM users WHERE instance_id = '$INST' AND org_id = '$ORG' AND username LIKE 'user' || lpad(:p::text, 4, '0') || '%' ORDER BY created_at DESC, id DESC LIMIT 100;
SQL
for c in 1 2 4; do
    (cd "$WORK" && PGOPTIONS="-c plan_cache_mode=force_custom_plan" "$PGBIN/pgbench" -h "$HOST" -p "$PORT" -U "$USER" -M prepared -n -T "$SECS" -c "$c" -f q.sql -l --log-prefix=lat "$DB" >/dev/null 2>&1)
    cat "$WORK"/lat* | awk '{print $3}' | sort -n | awk -v c="$c" '{a[NR]=$1} END {printf "{\"scenario\":\"pg_baseline\",\"clients\":%d,\"per_second\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n", c, NR/'"$SECS"', a[int(NR*0.5)]/1000, a[int(NR*0.99)]/1000, a[NR]/1000}'
    rm -f "$WORK"/lat*
done
