#!/usr/bin/env bash
# A mixed workload over three generated modules at 4 and at 1,000 tenants (issue 24): does the
# server keep its throughput when requests spread over many tenants' schemas?
#
# A copy of examples/server gets two more modules from this tree's scaffold,
#   tasks project:ref(projects) status:enum(todo,doing,done) title:string priority:int:index
#   customers name:string email:string:unique city:string?
# is built in release, and TENANTS (1,000) tenants are provisioned in a database of its own.
# Then, ROUNDS times, alternating: the server is started afresh, loaded by wrk with
# bench/mixed.lua (GET by id, lists with a filter and a sort, POST, PATCH; see there) with
# requests spread over the first SMALL (4) tenants, then over all of them; each run a
# WARMUP then DURATION. After each run PostgreSQL's memory is read: the server's backends'
# resident set (RSS), proportional set (PSS: shared pages split among the processes sharing
# them) and private memory, from /proc/<pid>/smaps_rollup; and the server's own RSS.
#
#   bash bench/mixed.sh
#   REUSE=1 ROUNDS=1 bash bench/mixed.sh                  # keep the database of the last run
#   STATEMENT_CACHE=4096 REUSE=1 bash bench/mixed.sh      # a build with another cache size
#
# Knobs: those of bench/lib.sh (THREADS, CONNECTIONS, DURATION, WARMUP, QUIET_WAIT, ...;
# TENANTS defaults to 1000 here, SERVER is not used), and
#   SMALL=4  ROUNDS=3  PARALLEL=4 (concurrent `tenant create`)  REUSE=0
#   SPREADS="4 1000": the runs of a round, by how many tenants the requests spread over
#   PROJECTS_PER_TENANT=10  TASKS_PER_TENANT=100  CUSTOMERS_PER_TENANT=20
#   STATEMENT_CACHE, GROUP_SIZE: build the copy with these instead of core/database.rs's
#   FROM_COMMIT=<rev>: that commit's generator and examples/server rather than the working
#   tree's (extracted into target/bench/src-<rev>); SCAFFOLD=path: a generator already built
#   VARIANT=name: a copy and binary of their own, e.g. to alternate two commits' builds:
#     VARIANT=before FROM_COMMIT=HEAD~ ROUNDS=1 REUSE=1 bash bench/mixed.sh
#     VARIANT=after ROUNDS=1 REUSE=1 bash bench/mixed.sh
#   BENCH_DB=scaffold_mixed
#   AUTOVACUUM=off: on leaves PostgreSQL's autovacuum to run during the runs (see below)
# Needs root (apt-get, .ci/postgres.sh, and reading PostgreSQL's /proc/<pid>/smaps_rollup).
set -euo pipefail

export TENANTS=${TENANTS:-1000}
export BENCH_DB=${BENCH_DB:-scaffold_mixed}
export DURATION=${DURATION:-15s}
export WARMUP=${WARMUP:-60s}
PROJECTS_PER_TENANT=${PROJECTS_PER_TENANT:-10}
TASKS_PER_TENANT=${TASKS_PER_TENANT:-100}
CUSTOMERS_PER_TENANT=${CUSTOMERS_PER_TENANT:-20}
SMALL=${SMALL:-4}
ROUNDS=${ROUNDS:-3}
PARALLEL=${PARALLEL:-4}
REUSE=${REUSE:-0}
source "$(dirname "$0")/lib.sh"
variant=${STATEMENT_CACHE:+-cache$STATEMENT_CACHE}${GROUP_SIZE:+-group$GROUP_SIZE}${VARIANT:+-$VARIANT}
bench_init "mixed$variant"
WRK_SCRIPT=$BENCH_ROOT/bench/mixed.lua
MEMORY=$BENCH_OUT/memory.tsv
: >"$MEMORY"

ensure_wrk
if [[ $REUSE == 1 ]]; then
    # shellcheck source=../.ci/postgres.sh
    source "$BENCH_ROOT/.ci/postgres.sh"
    start_postgres >&2
    export DATABASE_URL=${DATABASE_URL%/*}/$BENCH_DB
    PG_VERSION=$(psql "$DATABASE_URL" -Atc "SHOW server_version")
else
    setup_database
fi

# The copy is a workspace of its own sharing the lock file and target folder (so only its
# crate compiles), with a binary name of its own so it never replaces target/release/server.
TARGET_DIR=${CARGO_TARGET_DIR:-$BENCH_ROOT/target/bench}
COPY=$BENCH_ROOT/target/bench/mixed/server$variant
BIN_NAME=server_mixed${variant//-/_}
log "generating tasks and customers into a copy of examples/server ($COPY)"
# The sources: this working tree, or (FROM_COMMIT) a commit's, extracted once; the generator
# is built from the same sources as the copy it generates into.
SRC=$BENCH_ROOT
if [[ -n ${FROM_COMMIT:-} ]]; then
    SRC=$(commit_sources "$FROM_COMMIT")
fi
if [[ -z ${SCAFFOLD:-} ]]; then
    (cd "$SRC" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -q -p scaffold --bin scaffold)
    SCAFFOLD=$TARGET_DIR/release/scaffold
fi
# Generated into a new folder, which replaces the copy only if it differs: an unchanged copy
# is not rebuilt. SOURCE_DATE_EPOCH fixes the migrations' names, so that a copy built later
# (another STATEMENT_CACHE) still matches a database provisioned earlier (REUSE=1).
rm -rf "$COPY.new"
mkdir -p "$COPY.new"
tar -C "$SRC/examples/server" --exclude=./target -cf - . | tar -C "$COPY.new" -xf -
cp "$SRC/Cargo.lock" "$COPY.new/"
sed -i "/^\[\[bin\]\]\$/{n;s/^name = \"server\"\$/name = \"$BIN_NAME\"/}" "$COPY.new/Cargo.toml"
grep -q "^name = \"$BIN_NAME\"\$" "$COPY.new/Cargo.toml" || { echo "could not rename the copy's binary" >&2; exit 1; }
printf '\n[workspace]\n' >>"$COPY.new/Cargo.toml"
# $1: the constant's name, $2: its new value, in the copy's core/database.rs.
set_constant() {
    local file=$COPY.new/src/core/database.rs
    sed -i -E "s/^(const $1: [a-z0-9]+ = )[0-9_]+;/\1$2;/" "$file"
    grep -q "^const $1: [a-z0-9]* = $2;" "$file" || { echo "no const $1 in $file" >&2; exit 1; }
}
[[ -n ${STATEMENT_CACHE:-} ]] && set_constant STATEMENT_CACHE "$STATEMENT_CACHE"
[[ -n ${GROUP_SIZE:-} ]] && set_constant GROUP_SIZE "$GROUP_SIZE"
SOURCE_DATE_EPOCH=1796515200 "$SCAFFOLD" -C "$COPY.new" new module tasks 'project:ref(projects)' \
    'status:enum(todo,doing,done)' title:string priority:int:index >"$BENCH_OUT/generate.log"
SOURCE_DATE_EPOCH=1796515201 "$SCAFFOLD" -C "$COPY.new" new module customers name:string \
    email:string:unique 'city:string?' >>"$BENCH_OUT/generate.log"
if diff -r -q -x target "$COPY" "$COPY.new" >/dev/null 2>&1; then
    rm -rf "$COPY.new"
else
    rm -rf "$COPY"
    mv "$COPY.new" "$COPY"
fi
log "building the copy (release); this may wait on the target dir lock"
(cd "$COPY" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -q --bin "$BIN_NAME")
SERVER_BIN=$TARGET_DIR/release/$BIN_NAME

DATA_ALL=$BENCH_ROOT/target/bench/mixed/tenants-$BENCH_DB.txt
registered=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM public.tenants" 2>/dev/null || echo 0)
if [[ $REUSE == 1 && $registered == "$TENANTS" && -s $DATA_ALL ]]; then
    log "reusing $TENANTS tenants in $BENCH_DB"
    RUST_LOG=warn "$SERVER_BIN" migrate >/dev/null
else
    log "provisioning $TENANTS tenants ($PARALLEL at a time)"
    RUST_LOG=warn "$SERVER_BIN" migrate >/dev/null
    seq 1 "$TENANTS" | sed 's/^/bench/' |
        RUST_LOG=warn xargs -P "$PARALLEL" -I{} "$SERVER_BIN" tenant create {} >/dev/null
    log "seeding ($PROJECTS_PER_TENANT projects, $TASKS_PER_TENANT tasks, $CUSTOMERS_PER_TENANT customers per tenant)"
    psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 <<SQL
DO \$\$
DECLARE s text;
BEGIN
    FOR s IN SELECT quote_ident(schema_name) FROM public.tenants LOOP
        EXECUTE format(\$q\$
            INSERT INTO %1\$s.projects (name, description)
                SELECT 'project ' || g, 'seeded' FROM generate_series(1, $PROJECTS_PER_TENANT) g;
            INSERT INTO %1\$s.tasks (project_id, status, title, priority, created_at, updated_at)
                SELECT p.ids[1 + g %% $PROJECTS_PER_TENANT], (ARRAY['todo', 'doing', 'done'])[1 + g %% 3],
                       'task ' || g, 1 + (g * 37) %% 100,
                       now() - make_interval(secs => g), now() - make_interval(secs => g)
                FROM generate_series(1, $TASKS_PER_TENANT) g,
                     (SELECT array_agg(id) AS ids FROM %1\$s.projects) p;
            INSERT INTO %1\$s.customers (name, email, city)
                SELECT 'customer ' || g, 'c' || g || '@example.com',
                       (ARRAY['Lisbon', 'Oslo', 'Lagos', 'Lima', 'Osaka'])[1 + g %% 5]
                FROM generate_series(1, $CUSTOMERS_PER_TENANT) g;
        \$q\$, s);
    END LOOP;
END
\$\$;
VACUUM ANALYZE;
SQL
    log "minting tokens"
    seq 1 "$TENANTS" | RUST_LOG=warn xargs -P "$PARALLEL" -I{} sh -c \
        '"$0" token --tenant bench{} --user bench --ttl 4h \
            --permissions projects:read,projects:write,tasks:read,tasks:write,customers:read,customers:write \
            >"$1/token-{}.txt"' "$SERVER_BIN" "$BENCH_OUT"
    # One line per tenant, in slug order (bench1, bench2, ...): its token, then ids by module.
    psql "$DATABASE_URL" -qAt -v ON_ERROR_STOP=1 >"$BENCH_OUT/ids.txt" <<'SQL'
CREATE FUNCTION pg_temp.ids(s text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE result text;
BEGIN
    EXECUTE format($q$SELECT string_agg(x, ' ') FROM (
        (SELECT 'p:' || id AS x FROM %1$s.projects)
        UNION ALL (SELECT 't:' || id FROM %1$s.tasks LIMIT 20)
        UNION ALL (SELECT 'c:' || id FROM %1$s.customers)) ids$q$, s) INTO result;
    RETURN result;
END $f$;
SELECT pg_temp.ids(quote_ident(schema_name)) FROM public.tenants
ORDER BY substr(slug, 6)::int;
SQL
    : >"$DATA_ALL.tmp"
    i=0
    while read -r ids; do
        i=$((i + 1))
        printf '%s %s\n' "$(cat "$BENCH_OUT/token-$i.txt")" "$ids" >>"$DATA_ALL.tmp"
        rm "$BENCH_OUT/token-$i.txt"
    done <"$BENCH_OUT/ids.txt"
    mv "$DATA_ALL.tmp" "$DATA_ALL"
fi

# PostgreSQL's memory for the server's connections: "backends rss_kB pss_kB private_kB".
postgres_memory() {
    local pid rss=0 pss=0 private=0 n=0 r p c d
    for pid in $(psql "$DATABASE_URL" -Atc "SELECT pid FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()
              AND backend_type = 'client backend'"); do
        read -r r p c d < <(awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2}
            /^Private_Clean:/ {c = $2} /^Private_Dirty:/ {d = $2} END {print r, p, c, d}' \
            "/proc/$pid/smaps_rollup" 2>/dev/null || echo 0 0 0 0)
        rss=$((rss + r)) pss=$((pss + p)) private=$((private + c + d)) n=$((n + 1))
    done
    echo "$n $rss $pss $private"
}

# PostgreSQL's own upkeep stays out of the runs. Autovacuum is off for the tenants' tables,
# and everything is vacuumed and analyzed here, then the first SMALL tenants' tables (which
# the small runs update hundreds of times a second) before each run. With autovacuum on, a
# run over 1,000 tenants crosses the analyze threshold of a few hundred of their small tables
# a minute; each ANALYZE invalidates those tables' cached plans and catalog entries in every
# backend, and the runs it landed in served 0.1 to 0.7 of their neighbours' requests, some
# with statements cancelled, whichever build ran (bench/README.md). Set AUTOVACUUM=on to see it.
log "vacuuming and analyzing $BENCH_DB"
autovacuum=${AUTOVACUUM:-off}
[[ $autovacuum == on ]] && storage="RESET (autovacuum_enabled)" || storage="SET (autovacuum_enabled = off)"
psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 <<SQL
DO \$\$
DECLARE t record;
BEGIN
    FOR t IN SELECT quote_ident(schemaname) || '.' || quote_ident(relname) AS name
             FROM pg_stat_user_tables WHERE schemaname LIKE 'tenant\_%' LOOP
        EXECUTE format('ALTER TABLE %s $storage', t.name);
    END LOOP;
END
\$\$;
VACUUM ANALYZE;
SQL
# The tables of the first $1 tenants, for VACUUM.
first_tables() {
    psql "$DATABASE_URL" -Atc "SELECT string_agg(quote_ident(schema_name) || '.' || t, ', ')
        FROM (SELECT schema_name FROM public.tenants ORDER BY substr(slug, 6)::int LIMIT $1) s,
             unnest(ARRAY['projects', 'tasks', 'customers']) t"
}
SMALL_TABLES=$(first_tables "$SMALL")

for round in $(seq 1 "$ROUNDS"); do
    for spread in ${SPREADS:-$SMALL $TENANTS}; do
        DATA_FILE=$BENCH_OUT/tenants-$spread.txt
        head -n "$spread" "$DATA_ALL" >"$DATA_FILE"
        # A checkpoint now restarts checkpoint_timeout's clock (5 min), so that no timed one
        # lands in the run: at 1,000 tenants its fsync of thousands of files stalled
        # statements for seconds (runs at a tenth of their neighbours' speed, statements
        # cancelled by the statement timeout), whichever build was running.
        # The tasks earlier runs created go, so that every run meets the data as seeded:
        # the small runs put thousands in their few tenants, whose lists then slow down
        # run after run (a 4-tenant run fell from 5,225 to 3,257 requests/s over ten).
        psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 <<'SQL'
DO $$
DECLARE s text;
BEGIN
    FOR s IN SELECT quote_ident(schema_name) FROM public.tenants LOOP
        EXECUTE format($q$DELETE FROM %s.tasks WHERE title LIKE 'bench %%'$q$, s);
    END LOOP;
END
$$;
SQL
        [[ $autovacuum == on ]] || psql "$DATABASE_URL" -qc "VACUUM ANALYZE $SMALL_TABLES"
        psql "$DATABASE_URL" -qc CHECKPOINT
        start_rust_server
        run_scenario "$url" "$spread-$round" mixed
        printf '%s\t%s\t%s\t%s\t%s\n' "$spread" "$round" "$(cut -d' ' -f1-3 /proc/loadavg)" \
            "$(postgres_memory | tr ' ' '\t')" "$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")" \
            >>"$MEMORY"
        stop_server
    done
done

python3 - "$RESULTS" "$CPU_RESULTS" "$MEMORY" "$SMALL" "$TENANTS" <<'EOF' | tee "$BENCH_OUT/report.md"
import statistics, sys
results, cpu, memory, small, large = sys.argv[1:6]
runs = {}
for line in open(results):
    name, requests, duration_us, p50, p99, errors, non2xx = line.rstrip("\n").split("\t")
    runs[name] = {"rps": int(requests) / (int(duration_us) / 1e6), "p99": int(p99) / 1000,
                  "errors": int(errors) + int(non2xx)}
for line in open(cpu):
    f = line.rstrip("\n").split("\t")
    runs[f[0]].update(server=float(f[1]), postgres=float(f[2]), other=float(f[5]),
                      server_us=int(f[7]), pg_us=int(f[8]))
for line in open(memory):
    spread, rnd, load, n, rss, pss, private, server_rss = line.rstrip("\n").split("\t")
    runs[f"{spread}-{rnd}"].update(load=load.split()[0], backends=int(n), rss=int(rss) / 1024,
                                   pss=int(pss) / 1024, private=int(private) / 1024,
                                   server_rss=int(server_rss) / 1024)
print("| tenants | round | requests/s | p99 | errors | server CPU/req | PostgreSQL CPU/req | other | load (1 min) | backends | RSS | PSS | private | server RSS |")
print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for name, r in runs.items():
    spread, rnd = name.split("-")
    print(f"| {spread} | {rnd} | {r['rps']:.0f} | {r['p99']:.1f} ms | {r['errors']} | {r['server_us']} µs | "
          f"{r['pg_us']} µs | {r['other']:.2f} | {r['load']} | {r['backends']} | {r['rss']:.0f} MB | "
          f"{r['pss']:.0f} MB | {r['private']:.0f} MB | {r['server_rss']:.0f} MB |")
def median(spread, key):
    return statistics.median(r[key] for n, r in runs.items() if n.split("-")[0] == spread)
if not {small, large} <= {n.split("-")[0] for n in runs}:
    sys.exit(0)
print()
print(f"medians: {small} tenants {median(small, 'rps'):.0f} req/s (p99 {median(small, 'p99'):.1f} ms, "
      f"PSS {median(small, 'pss'):.0f} MB); {large} tenants {median(large, 'rps'):.0f} req/s "
      f"(p99 {median(large, 'p99'):.1f} ms, PSS {median(large, 'pss'):.0f} MB); "
      f"{large} / {small}: {100 * median(large, 'rps') / median(small, 'rps'):.0f}%")
EOF
echo "- $(nproc) cores, PostgreSQL $PG_VERSION; server $BIN_NAME, DATABASE_POOL_SIZE=${DATABASE_POOL_SIZE:-16}; wrk -t$THREADS -c$CONNECTIONS, $WARMUP warm-up, $DURATION measured; a fresh server per run" |
    tee -a "$BENCH_OUT/report.md"
