#!/usr/bin/env bash
# Schema-per-tenant at scale, against the machine's PostgreSQL (.ci/postgres.sh):
#
#   1. a server with the reference `projects` module plus ten generated modules (`scaffold new
#      app`, then `scaffold new module` ten times), built in release mode;
#   2. creating one tenant (`tenant create`, serially, median) and, for comparison, a command
#      that only starts, connects and queries once (`tenant list`);
#   3. provisioning TENANTS tenants with `tenant create`, PARALLEL at a time;
#   4. `migrate` over TENANTS up-to-date tenants (default --jobs, and --jobs 1), and
#      `migrate --status`;
#   5. a migration adding a column to one table in every tenant, with --jobs 1 and --jobs 4;
#   6. the catalog's size, and one backend's memory after touching 1, 100 and all tenants.
#
#   bash bench/tenants.sh
#   TENANTS=200 bash bench/tenants.sh
#
# Knobs: TENANTS (1000), PARALLEL (4: concurrent `tenant create` processes), RUNS (3: runs of
# each `migrate` timing), BENCH_DB (scaffold_tenants; dropped and created), BENCH_OUT
# (target/bench/tenants: the generated app, logs, report.md), REUSE=1 (keep the app and the two
# binaries of the last run: no generation, no builds). Needs root (PostgreSQL).
#
# The machine may be shared: besides wall times the report gives the CPU time that the tenant
# commands and PostgreSQL spent, which other load does not inflate as much.
set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TENANTS=${TENANTS:-1000}
PARALLEL=${PARALLEL:-4}
RUNS=${RUNS:-3}
BENCH_DB=${BENCH_DB:-scaffold_tenants}
BENCH_OUT=${BENCH_OUT:-$BENCH_ROOT/target/bench/tenants}
TARGET_DIR=${CARGO_TARGET_DIR:-$BENCH_ROOT/target}
APP=$BENCH_OUT/app
BIN=$TARGET_DIR/release/tenants-bench
REPORT=$BENCH_OUT/report.md
export RUST_LOG=warn

log() { printf '==> %s\n' "$*" >&2; }
# Seconds since the epoch, with milliseconds.
now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }
sql() { psql "$DATABASE_URL" -Atq -v ON_ERROR_STOP=1 "$@"; }
say() { printf '%s\n' "$*" | tee -a "$REPORT"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

mkdir -p "$BENCH_OUT"
: >"$REPORT"
HZ=$(getconf CLK_TCK)
# CPU ticks used by this script's finished children (the tenant commands): cutime + cstime.
own_ticks() { sed 's/^.*) //' "/proc/$$/stat" | awk '{ print $14 + $15 }'; }
# CPU ticks of the cluster: the postmaster's live children, plus the backends that exited,
# which are charged to the postmaster that waited for them. Other databases' sessions on this
# cluster count too (other PostgreSQL clusters on the machine do not).
pg_ticks() {
    local total pid
    total=$(sed 's/^.*) //' "/proc/$POSTMASTER/stat" | awk '{ print $12 + $13 + $14 + $15 }')
    for pid in $(pgrep -P "$POSTMASTER"); do
        total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{ print $12 + $13 }' || echo 0)))
    done
    echo "$total"
}
seconds() { echo "scale=1; $1 / $HZ" | bc; }

if [[ ${REUSE:-} == 1 && -x $BENCH_OUT/tenants-bench-v1 && -x $BENCH_OUT/tenants-bench-v2 ]]; then
    log "reusing the app and binaries in $BENCH_OUT"
else
rm -rf "$APP"
# 1. The app: the reference server and ten modules of different shapes, some referring to
# others, as a real service grows.
log "generating the app in $APP"
(cd "$BENCH_ROOT" && cargo build -q -p scaffold)
SCAFFOLD=$TARGET_DIR/debug/scaffold
"$SCAFFOLD" new app tenants-bench --dir "$APP" >/dev/null
modules=(
    "customers name:string email:string:unique 'phone:string(40)?' notes:text?"
    "contacts name:string 'email:string?' 'customer:ref(customers)'"
    "products sku:string:unique name:string price:decimal active:bool"
    "orders number:string:unique placed_at:datetime 'status:enum(draft,placed,paid,shipped)' 'customer:ref(customers)'"
    "order_lines quantity:int price:decimal 'parent_order:ref(orders)' 'product:ref(products)'"
    "invoices number:string:unique total:decimal 'due_on:date?' 'parent_order:ref(orders)'"
    "payments amount:decimal paid_at:datetime 'method:enum(card,transfer,cash)' 'invoice:ref(invoices)'"
    "shipments carrier:string 'tracking:string?:index' 'shipped_on:date?' 'parent_order:ref(orders)'"
    "tickets title:string body:text 'priority:enum(low,normal,high)' 'customer:ref(customers)?'"
    "events kind:string:index payload:json occurred_at:datetime"
)
for spec in "${modules[@]}"; do
    eval "\"$SCAFFOLD\" -C \"$APP\" new module $spec --yes" >/dev/null
done
ls "$APP/migrations/tenant" >&2

log "building the app (release; deps are shared with the workspace's server build)"
(cd "$APP" && CARGO_TARGET_DIR=$TARGET_DIR cargo build -q --release)
cp "$BIN" "$BENCH_OUT/tenants-bench-v1"
# The second binary: one more migration, a column added to one table.
old_version=$(ls "$APP/migrations/tenant" | sort | tail -1 | cut -d_ -f1)
echo "$old_version" >"$BENCH_OUT/old-version"
echo "ALTER TABLE customers ADD COLUMN loyalty_points INTEGER NOT NULL DEFAULT 0;" \
    >"$APP/migrations/tenant/29991231000000_add_loyalty_points_to_customers.sql"
(cd "$APP" && CARGO_TARGET_DIR=$TARGET_DIR cargo build -q --release)
cp "$TARGET_DIR/release/tenants-bench" "$BENCH_OUT/tenants-bench-v2"

fi
BIN=$BENCH_OUT/tenants-bench-v1
V2=$BENCH_OUT/tenants-bench-v2
old_version=$(cat "$BENCH_OUT/old-version")
tables=$(ls "$APP/migrations/tenant" | sed -E 's/^[0-9]+_create_(.*)\.sql$/\1/' | grep -v '^[0-9]')

# shellcheck source=../.ci/postgres.sh
source "$BENCH_ROOT/.ci/postgres.sh"
start_postgres >&2
ADMIN_URL=$DATABASE_URL
psql "$ADMIN_URL" -q -v ON_ERROR_STOP=1 \
    -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" \
    -c "CREATE DATABASE $BENCH_DB OWNER scaffold"
export DATABASE_URL=${ADMIN_URL%/*}/$BENCH_DB
POSTMASTER=$(head -1 "$(sql -c 'SHOW data_directory')/postmaster.pid")
"$BIN" migrate >/dev/null

say "# Tenants at scale"
say ""
say "- $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ { print $2 }') GiB, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
say "- PostgreSQL $(sql -c 'SHOW server_version'), shared_buffers $(sql -c 'SHOW shared_buffers'), fsync $(sql -c 'SHOW fsync'), synchronous_commit $(sql -c 'SHOW synchronous_commit')"
say "- $(echo $tables | wc -w) tenant migrations (projects + $(($(echo $tables | wc -w) - 1)) generated modules), $TENANTS tenants"
say ""

# 2. One tenant at a time.
log "timing single tenant creation"
creates=() lists=() deletes=()
for i in $(seq 1 15); do
    start=$(now); "$BIN" tenant create "single$i" >/dev/null; creates+=("$(elapsed "$start")")
    start=$(now); "$BIN" tenant list >/dev/null 2>&1; lists+=("$(elapsed "$start")")
done
for i in $(seq 1 15); do
    start=$(now); "$BIN" tenant delete "single$i" --yes >/dev/null; deletes+=("$(elapsed "$start")")
done
create_ms=$(printf '%s\n' "${creates[@]}" | median | awk '{ printf "%.0f", $1 * 1000 }')
list_ms=$(printf '%s\n' "${lists[@]}" | median | awk '{ printf "%.0f", $1 * 1000 }')
delete_ms=$(printf '%s\n' "${deletes[@]}" | median | awk '{ printf "%.0f", $1 * 1000 }')
# The same DDL as one transaction inside PostgreSQL: what the database itself spends.
sql -c "INSERT INTO public.tenants (slug, schema_name) VALUES ('probe', 'tenant_probe')"
sql -c "CREATE SCHEMA tenant_probe"
ddl_start=$(now)
RUST_LOG=warn "$BIN" migrate --tenant probe >/dev/null
ddl_ms=$(elapsed "$ddl_start" | awk '{ printf "%.0f", $1 * 1000 }')
"$BIN" tenant delete probe --yes >/dev/null

say "| one tenant | median of 15 |"
say "| --- | ---: |"
say "| \`tenant create\` (process, connect, schema, $(echo $tables | wc -w) migrations, commit) | $create_ms ms |"
say "| \`tenant list\` (process, connect, one query: the fixed cost) | $list_ms ms |"
say "| \`migrate --tenant\` of one empty schema (once) | $ddl_ms ms |"
say "| \`tenant delete --yes\` | $delete_ms ms |"
say ""

# 3. Provisioning.
log "provisioning $TENANTS tenants, $PARALLEL at a time"
own_before=$(own_ticks) pg_before=$(pg_ticks)
start=$(now)
seq -f 't%04g' 1 "$TENANTS" | xargs -P "$PARALLEL" -n 1 "$BIN" tenant create >/dev/null
provision=$(elapsed "$start")
provision_own=$(seconds $(($(own_ticks) - own_before)))
provision_pg=$(seconds $(($(pg_ticks) - pg_before)))
sql -c "VACUUM ANALYZE" 2>/dev/null || true

# 4. Nothing to do.
log "migrate over $TENANTS up-to-date tenants"
time_runs() {
    local best=
    for _ in $(seq 1 "$RUNS"); do
        local start t
        start=$(now)
        "$@" >/dev/null
        t=$(elapsed "$start")
        if [[ -z $best ]] || (($(echo "$t < $best" | bc))); then best=$t; fi
    done
    printf '%.2f' "$best"
}
migrate_default=$(time_runs "$BIN" migrate)
migrate_one=$(time_runs "$BIN" migrate --jobs 1)
status_default=$(time_runs "$BIN" migrate --status)

# 5. A column added to one table in every tenant: a second binary with one more migration.
log "adding a column to customers in $TENANTS tenants"
undo_column() {
    sql <<SQL
DO \$\$
DECLARE s text;
BEGIN
    FOR s IN SELECT schema_name FROM public.tenants LOOP
        EXECUTE format('ALTER TABLE %I.customers DROP COLUMN loyalty_points', s);
        EXECUTE format('DELETE FROM %I.schema_migrations WHERE version = 29991231000000', s);
    END LOOP;
    UPDATE public.tenants SET schema_version = $old_version;
END
\$\$;
SQL
}
start=$(now); "$V2" migrate --jobs 1 >"$BENCH_OUT/alter-jobs1.log"; alter_one=$(elapsed "$start")
undo_column
start=$(now); "$V2" migrate --jobs 4 >"$BENCH_OUT/alter-jobs4.log"; alter_four=$(elapsed "$start")
tail -1 "$BENCH_OUT/alter-jobs4.log" >&2

say "| $TENANTS tenants | seconds | target |"
say "| --- | ---: | ---: |"
say "| provisioning: \`tenant create\` x $TENANTS, $PARALLEL processes at a time | $(printf '%.1f' "$provision") | < 60 |"
say "| ... CPU: the \`tenant create\` processes / PostgreSQL | $provision_own / $provision_pg | |"
say "| \`migrate\`, all up to date, default --jobs ($(nproc) cores: $(( $(nproc) < 2 ? 2 : ($(nproc) > 8 ? 8 : $(nproc)) ))), best of $RUNS | $migrate_default | < 2 |"
say "| \`migrate --jobs 1\`, all up to date, best of $RUNS | $migrate_one | |"
say "| \`migrate --status\`, best of $RUNS | $status_default | |"
say "| \`migrate --jobs 1\`: ADD COLUMN to customers in every tenant | $(printf '%.2f' "$alter_one") | |"
say "| \`migrate --jobs 4\`: the same | $(printf '%.2f' "$alter_four") | |"
say ""

# 6. What schema-per-tenant costs PostgreSQL.
log "measuring the catalog and a backend's memory"
relations=$(sql -c "SELECT count(*) FROM pg_class")
tenant_relations=$(sql -c "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'tenant\_%'")
attributes=$(sql -c "SELECT count(*) FROM pg_attribute")
catalog=$(sql -c "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'pg_catalog' AND c.relkind = 'r'")
database=$(sql -c "SELECT pg_size_pretty(pg_database_size(current_database()))")
files=$(find "$(sql -c 'SHOW data_directory')/base/$(sql -c "SELECT oid FROM pg_database WHERE datname = current_database()")" -type f | wc -l)

# One psql session: memory when fresh, then after reading every table of 1, 100 and all
# tenants, as a pooled connection does over time when it serves every tenant.
memory_after() {
    local n=$1
    {
        for i in $(seq 1 "$n"); do
            for table in $tables; do
                printf 'SELECT count(*) FROM tenant_t%04d.%s;\n' "$i" "$table"
            done
        done
        echo "SELECT pg_size_pretty(sum(total_bytes)) || ' total, CacheMemoryContext ' || pg_size_pretty(sum(total_bytes) FILTER (WHERE name = 'CacheMemoryContext')) FROM pg_backend_memory_contexts;"
    } | sql | tail -1
}
fresh=$(memory_after 0)
one=$(memory_after 1)
hundred=$(memory_after $((TENANTS < 100 ? TENANTS : 100)))
all=$(memory_after "$TENANTS")

say "| at $TENANTS tenants | |"
say "| --- | --- |"
say "| relations in pg_class (tenant schemas' share) | $relations ($tenant_relations) |"
say "| rows in pg_attribute | $attributes |"
say "| system catalog tables on disk | $catalog |"
say "| database size (empty tenants) | $database |"
say "| files in the database's directory | $files |"
say "| one backend, fresh | $fresh |"
say "| one backend after reading every table of 1 tenant | $one |"
say "| ... of 100 tenants | $hundred |"
say "| ... of all $TENANTS tenants | $all |"
say ""
say "Load during the run: $(cut -d' ' -f1-3 /proc/loadavg). The machine is shared with other builds: expect noise."
log "report: $REPORT"
