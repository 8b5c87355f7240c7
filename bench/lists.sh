#!/usr/bin/env bash
# Load benchmark of generated list endpoints: a copy of examples/server gets a `tasks` module
# (a ref to projects, an enum, an indexed int) from this tree's scaffold, is built in release
# and loaded with GET requests for four lists, each request for a random tenant:
#   filtered  ?project_id=<one of the tenant's projects>&status=<one of the three values>
#   sorted    ?sort=-priority                    (the first page of 50)
#   page1     ?limit=50                          (default order: created_at, id)
#   deep      ?limit=50&after=<cursor>           (the page 10,000 rows in, by keyset)
#   linked    /api/tags/<id>/tasks?limit=50      (one tag's tasks through the link `tag_tasks`,
#                                                 `scaffold new link tags tasks weight:int`)
#   counts    ?limit=50&counts=tags              (page 1, each task with its number of tags)
# Prints the same tables as bench/load.sh, then how the deep page compares with page 1.
#
#   bash bench/lists.sh
#   TASKS_PER_TENANT=50000 DURATION=20s bash bench/lists.sh
#
# Knobs: those of bench/lib.sh (TENANTS, THREADS, CONNECTIONS, DURATION, ...; SERVER is not
# used: the server is always this tree's, with the module generated afresh), and
#   PROJECTS_PER_TENANT=20  TASKS_PER_TENANT=12000  DEEP_ROWS=10000
#   TAGS_PER_TENANT=50  TAGS_PER_TASK=3  (every task linked to that many tags)
# Needs root (apt-get, and .ci/postgres.sh runs psql as the postgres user).
set -euo pipefail

PROJECTS_PER_TENANT=${PROJECTS_PER_TENANT:-20}
TASKS_PER_TENANT=${TASKS_PER_TENANT:-12000}
DEEP_ROWS=${DEEP_ROWS:-10000}
TAGS_PER_TENANT=${TAGS_PER_TENANT:-50}
TAGS_PER_TASK=${TAGS_PER_TASK:-3}
SCENARIOS=${SCENARIOS:-filtered sorted page1 deep linked counts}
source "$(dirname "$0")/lib.sh"
bench_init lists

if ((DEEP_ROWS + 50 > TASKS_PER_TENANT)); then
    echo "TASKS_PER_TENANT ($TASKS_PER_TENANT) must exceed DEEP_ROWS ($DEEP_ROWS) by a page (50)" >&2
    exit 2
fi

ensure_wrk
setup_database

TARGET_DIR=${CARGO_TARGET_DIR:-$BENCH_ROOT/target}
COPY=$BENCH_OUT/server
MODULE=(tasks 'project:ref(projects)' 'status:enum(todo,doing,done)' title:string priority:int:index)

# The copy is a workspace of its own (it lies inside this one's folder) sharing this tree's
# target folder and lock file, so only its own crate compiles; its binary gets its own name so
# that it never replaces target/release/server.
log "generating ${MODULE[*]} into a copy of examples/server"
(cd "$BENCH_ROOT" && cargo build --release -q -p scaffold --bin scaffold)
rm -rf "$COPY"
mkdir -p "$COPY"
tar -C "$BENCH_ROOT/examples/server" --exclude=./target -cf - . | tar -C "$COPY" -xf -
cp "$BENCH_ROOT/Cargo.lock" "$COPY/"
sed -i '/^\[\[bin\]\]$/{n;s/^name = "server"$/name = "server_lists"/}' "$COPY/Cargo.toml"
grep -q '^name = "server_lists"$' "$COPY/Cargo.toml" || { echo "could not rename the copy's binary" >&2; exit 1; }
printf '\n[workspace]\n' >>"$COPY/Cargo.toml"
"$TARGET_DIR/release/scaffold" -C "$COPY" new module "${MODULE[@]}" >"$BENCH_OUT/generate.log"
"$TARGET_DIR/release/scaffold" -C "$COPY" new module tags name:string >>"$BENCH_OUT/generate.log"
"$TARGET_DIR/release/scaffold" -C "$COPY" new link tags tasks weight:int >>"$BENCH_OUT/generate.log"
log "building the copy (release); this may wait on the target dir lock"
(cd "$COPY" && CARGO_TARGET_DIR=$TARGET_DIR cargo build --release -q --bin server_lists)
SERVER_BIN=$TARGET_DIR/release/server_lists

log "migrating and seeding $TENANTS tenants x $PROJECTS_PER_TENANT projects x $TASKS_PER_TENANT tasks"
RUST_LOG=warn "$SERVER_BIN" migrate >/dev/null
TOKENS=$BENCH_OUT/tokens.txt
: >"$TOKENS"
for i in $(seq 1 "$TENANTS"); do
    slug=bench$i
    RUST_LOG=warn "$SERVER_BIN" tenant create "$slug" >/dev/null
    # Tasks spread evenly over the projects, the statuses and 100 priorities, created a second
    # apart so that the default order is the insertion order.
    psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 -c "
        INSERT INTO tenant_$slug.projects (name)
        SELECT 'project ' || g FROM generate_series(1, $PROJECTS_PER_TENANT) AS g;
        INSERT INTO tenant_$slug.tasks (project_id, status, title, priority, created_at, updated_at)
        SELECT p.ids[1 + g % $PROJECTS_PER_TENANT], (ARRAY['todo', 'doing', 'done'])[1 + g % 3],
               'task ' || g, 1 + (g * 37) % 100,
               now() - make_interval(secs => $TASKS_PER_TENANT - g),
               now() - make_interval(secs => $TASKS_PER_TENANT - g)
        FROM generate_series(1, $TASKS_PER_TENANT) AS g,
             (SELECT array_agg(id) AS ids FROM tenant_$slug.projects) AS p;
        INSERT INTO tenant_$slug.tags (name)
        SELECT 'tag ' || g FROM generate_series(1, $TAGS_PER_TENANT) AS g;
        -- Task n gets the tags n*7, n*7+1, ... (mod the tags): distinct, spread evenly.
        INSERT INTO tenant_$slug.tag_tasks (tag_id, task_id, weight)
        SELECT t.ids[1 + (task.n * 7 + k) % $TAGS_PER_TENANT], task.id, k
        FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n
              FROM tenant_$slug.tasks) AS task,
             generate_series(0, $TAGS_PER_TASK - 1) AS k,
             (SELECT array_agg(id) AS ids FROM tenant_$slug.tags) AS t"
    token=$(RUST_LOG=warn "$SERVER_BIN" token --tenant "$slug" --user bench \
        --permissions tasks:read,tags:read,tag_tasks:read --ttl 2h)
    echo "$slug $token" >>"$TOKENS"
done
psql "$DATABASE_URL" -q -c "VACUUM ANALYZE"

start_rust_server

# Per scenario, a data file for projects.lua's `get`: per tenant its token and the paths to
# pick from.
# The deep page's cursor is found by walking the list through the API, as a client would, and
# every path is requested once here, so a wrong one fails loudly before any load.
log "preparing the paths (walking $DEEP_ROWS rows per tenant for the deep cursor)"
python3 - "$url" "$TOKENS" "$BENCH_OUT" "$DATABASE_URL" "$DEEP_ROWS" <<'EOF'
import json, subprocess, sys, urllib.parse, urllib.request

url, tokens, out, database_url, deep_rows = sys.argv[1:6]
deep_rows = int(deep_rows)
paths = {"filtered": [], "sorted": [], "page1": [], "deep": [], "linked": [], "counts": []}

def get(token, path):
    request = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(request) as response:
        return json.load(response)

for line in open(tokens):
    slug, token = line.split()
    projects = subprocess.run(
        ["psql", database_url, "-Atc", f"SELECT id FROM tenant_{slug}.projects"],
        check=True, capture_output=True, text=True).stdout.split()
    filtered = [f"/api/tasks?project_id={p}&status={s}"
                for p in projects for s in ("todo", "doing", "done")]
    tags = subprocess.run(
        ["psql", database_url, "-Atc", f"SELECT id FROM tenant_{slug}.tags"],
        check=True, capture_output=True, text=True).stdout.split()
    linked = [f"/api/tags/{t}/tasks?limit=50" for t in tags]
    cursor, walked = None, 0
    while walked < deep_rows:
        limit = min(200, deep_rows - walked)
        page = get(token, f"/api/tasks?limit={limit}"
                   + ("&after=" + urllib.parse.quote(cursor, safe="") if cursor else ""))
        walked += len(page["items"])
        cursor = page["next"]
    deep = f"/api/tasks?limit=50&after={urllib.parse.quote(cursor, safe='')}"
    tenant_paths = {"filtered": filtered, "sorted": ["/api/tasks?sort=-priority"],
                    "page1": ["/api/tasks?limit=50"], "deep": [deep], "linked": linked,
                    "counts": ["/api/tasks?limit=50&counts=tags"]}
    for scenario, some in tenant_paths.items():
        for path in some:
            page = get(token, path)
            assert page["items"], f"{path} listed nothing"
            if scenario == "counts":
                assert all(item["tags_count"] > 0 for item in page["items"]), path
        paths[scenario].append(token + " " + " ".join(some))

for scenario, lines in paths.items():
    with open(f"{out}/paths-{scenario}.txt", "w") as data:
        data.write("\n".join(lines) + "\n")
EOF

for scenario in $SCENARIOS; do
    DATA_FILE=$BENCH_OUT/paths-$scenario.txt run_scenario "$url" "$scenario" get
done
stop_server

WRK_ENV="BENCH_SCENARIO=get BENCH_DATA=$BENCH_OUT/paths-<scenario>.txt"
DATA_DESCRIPTION="$TENANTS tenants x $PROJECTS_PER_TENANT projects x $TASKS_PER_TENANT tasks (\`${MODULE[*]}\`), each task linked to $TAGS_PER_TASK of $TAGS_PER_TENANT tags (\`new link tags tasks weight:int\`), database $BENCH_DB; each request picks a tenant at random, and for the filter one of its projects and a status, for linked one of its tags"
report "Lists of a generated module (a copy of examples/server with \`tasks\`)" \
    "RUST_LOG=$RUST_LOG DATABASE_POOL_SIZE=${DATABASE_POOL_SIZE:-16} BIND_ADDR=$BIND_ADDR target/release/server_lists serve" \
    "- server build: cargo build --release --bin server_lists in the copy ($(rustc --version))"

awk -F'\t' '$1 == "page1" { p = $2 / $3 } $1 == "deep" { d = $2 / $3 } $1 == "counts" { c = $2 / $3 }
    END { if (p && d) printf "\ndeep page (%d rows in) / page 1, requests/s: %.0f%%\n", '"$DEEP_ROWS"', 100 * d / p
          if (p && c) printf "page 1 with counts=tags / page 1, requests/s: %.0f%%\n", 100 * c / p }' \
    "$RESULTS" | tee -a "$BENCH_OUT/report.md"
