# Shared by bench/load.sh (the Rust server) and bench/fastapi.sh (the FastAPI baseline), so
# both are measured with the same database, the same seeded data, the same tokens and the same
# wrk runs. Sourced, not run; the caller sets `set -euo pipefail`.
#
# Knobs (environment):
#   TENANTS=4  PROJECTS_PER_TENANT=1000         the seeded data
#   THREADS=2  CONNECTIONS=64  DURATION=10s  WARMUP=3s  TIMEOUT=10s   each wrk run
#   SCENARIOS="get list post"                   which scenarios, in this order (also: keyed)
#   QUIET_WAIT=120                              seconds to wait for an idle machine per run
#   BENCH_DB=scaffold_bench                     dropped and created on every run
#   BENCH_OUT=target/bench/<server>             logs, wrk output and report.md
#   SERVER=path/to/server                       run this server binary instead of building
#                                               this tree's (an older build to compare with)
#   WRK_SCRIPT=bench/projects.lua               the wrk script run_scenario runs

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TENANTS=${TENANTS:-4}
PROJECTS_PER_TENANT=${PROJECTS_PER_TENANT:-1000}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
# wrk counts a response slower than its timeout (default 2 s) as a socket error and leaves it
# out of the latencies; a longer one keeps a slow server's tail in p99 where it belongs.
TIMEOUT=${TIMEOUT:-10s}
SCENARIOS=${SCENARIOS:-get list post}
QUIET_WAIT=${QUIET_WAIT:-120}
BENCH_DB=${BENCH_DB:-scaffold_bench}
# A fixed secret that only this benchmark uses: both servers must verify the same tokens.
export JWT_SECRET=${JWT_SECRET:-bench-only-secret-not-for-production}

SERVER_BIN=${SERVER:-${CARGO_TARGET_DIR:-$BENCH_ROOT/target}/release/server}
SERVER_PID=

log() { printf '==> %s\n' "$*" >&2; }

# $1: a name for this server (rust, fastapi); sets BENCH_OUT and the files in it.
bench_init() {
    BENCH_NAME=$1
    BENCH_OUT=${BENCH_OUT:-$BENCH_ROOT/target/bench/$BENCH_NAME}
    mkdir -p "$BENCH_OUT"
    DATA_FILE=$BENCH_OUT/tenants.txt
    RESULTS=$BENCH_OUT/results.tsv
    CPU_RESULTS=$BENCH_OUT/cpu.tsv
    : >"$RESULTS"
    : >"$CPU_RESULTS"
    trap stop_server EXIT
    # Turn Ctrl-C and kill into a normal exit, so the EXIT trap stops the server.
    trap 'exit 130' INT TERM
}

ensure_wrk() {
    if ! command -v wrk >/dev/null; then
        log "installing wrk from Debian packages"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    fi
}

# Starts PostgreSQL and points DATABASE_URL at a freshly created $BENCH_DB.
setup_database() {
    # shellcheck source=../.ci/postgres.sh
    source "$BENCH_ROOT/.ci/postgres.sh"
    # Its chatter ("Cluster is already running.") goes to stderr, keeping stdout the report.
    start_postgres >&2
    local admin_url=$DATABASE_URL
    log "recreating database $BENCH_DB"
    psql "$admin_url" -q -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" \
        -c "CREATE DATABASE $BENCH_DB OWNER scaffold"
    export DATABASE_URL=${admin_url%/*}/$BENCH_DB
    PG_VERSION=$(psql "$DATABASE_URL" -Atc "SHOW server_version")
}

# $1: a commit. Prints the folder its tree is extracted to (once), target/bench/src-<commit>:
# a build of a commit, while the working tree is being edited by others.
commit_sources() {
    local src
    src=$BENCH_ROOT/target/bench/src-$(git -C "$BENCH_ROOT" rev-parse --short "$1")
    if [[ ! -d $src ]]; then
        rm -rf "$src.tmp"
        mkdir -p "$src.tmp"
        git -C "$BENCH_ROOT" archive "$1" | tar -C "$src.tmp" -xf -
        mv "$src.tmp" "$src"
    fi
    echo "$src"
}

build_server() {
    [[ -n ${SERVER:-} ]] && return
    log "building the server (release); this may wait on the target dir lock"
    (cd "$BENCH_ROOT" && cargo build --release -p server)
    [[ -x $SERVER_BIN ]] || { echo "no server binary at $SERVER_BIN" >&2; exit 1; }
}

# Migrates, creates the tenants bench1..benchN, seeds each with PROJECTS_PER_TENANT projects
# and writes DATA_FILE: per tenant one line, its token then its projects' paths.
seed() {
    log "migrating and seeding $TENANTS tenants x $PROJECTS_PER_TENANT projects"
    RUST_LOG=warn "$SERVER_BIN" migrate >/dev/null
    : >"$DATA_FILE"
    local i slug token paths
    for i in $(seq 1 "$TENANTS"); do
        slug=bench$i
        RUST_LOG=warn "$SERVER_BIN" tenant create "$slug" >/dev/null
        # SQL rather than the API: 4,000 rows in a second, and the ids come back in one query.
        # created_at is spread over distinct seconds so the list's order is well defined.
        psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 -c "
            INSERT INTO tenant_$slug.projects (name, description, created_at, updated_at)
            SELECT 'project ' || g, 'seeded for the load benchmark',
                   now() - make_interval(secs => $PROJECTS_PER_TENANT - g),
                   now() - make_interval(secs => $PROJECTS_PER_TENANT - g)
            FROM generate_series(1, $PROJECTS_PER_TENANT) AS g"
        token=$(RUST_LOG=warn "$SERVER_BIN" token --tenant "$slug" --user bench \
            --permissions projects:read,projects:write --ttl 2h)
        paths=$(psql "$DATABASE_URL" -Atc "SELECT string_agg('/api/projects/' || id, ' ') FROM tenant_$slug.projects")
        printf '%s %s\n' "$token" "$paths" >>"$DATA_FILE"
    done
    psql "$DATABASE_URL" -q -c "VACUUM ANALYZE"
}

# A port the kernel just handed out, so free; python3 because bash has no portable way to ask.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts SERVER_BIN (examples/server or a build like it) on a free loopback port, sets `url`
# and waits until it answers.
start_rust_server() {
    local port
    port=$(free_port)
    url=http://127.0.0.1:$port
    export BIND_ADDR=127.0.0.1:$port
    # warn, not info: a benchmark measures the server, not its logging (see the report).
    export RUST_LOG=${RUST_LOG:-warn}
    log "starting the server on $url (RUST_LOG=$RUST_LOG, DATABASE_POOL_SIZE=${DATABASE_POOL_SIZE:-default 16})"
    "$SERVER_BIN" serve >"$BENCH_OUT/server.log" 2>&1 &
    SERVER_PID=$!
    wait_for_server "$url"
}

# $1: base URL. Waits until the server answers HTTP at all (any status) or has exited.
wait_for_server() {
    local _
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null "$1/api/projects"; then
            return 0
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "the server exited; its log:" >&2
            cat "$BENCH_OUT/server.log" >&2
            exit 1
        fi
        sleep 0.2
    done
    echo "the server did not answer on $1 within 20 s" >&2
    exit 1
}

# One GET by id through curl before any load: a wrong token or a wrong id fails here, loudly,
# rather than as a wall of non-2xx responses in wrk's output.
smoke_test() {
    local token path status
    read -r token path _ <"$DATA_FILE"
    status=$(curl -s -o "$BENCH_OUT/smoke.json" -w '%{http_code}' \
        -H "Authorization: Bearer $token" "$1$path")
    if [[ $status != 200 ]]; then
        echo "smoke test: GET $path answered $status:" >&2
        cat "$BENCH_OUT/smoke.json" >&2
        exit 1
    fi
}

stop_server() {
    if [[ -n ${SERVER_PID:-} ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=
}

# CPU accounting: "pid ticks" lines, ticks being utime + stime from /proc/<pid>/stat.
process_ticks() {
    local pid fields f
    for pid in "$@"; do
        # Fields after "pid (comm) ": the comm may contain spaces, so split after the ")".
        fields=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null) || continue
        read -r -a f <<<"$fields"
        echo "$pid $((f[11] + f[12]))"
    done
}

# $1, $2: files of process_ticks before and after. The ticks the processes used in between: a
# process that started meanwhile counts whole, one that exited meanwhile is lost (PostgreSQL
# backends live as long as the pool's connections, so nothing that matters here).
ticks_between() {
    awk 'NR == FNR { before[$1] = $2; next } { total += $2 - before[$1] } END { print total + 0 }' "$1" "$2"
}

# The server and its children (uvicorn's workers).
server_pids() { echo "$SERVER_PID" $(pgrep -P "$SERVER_PID" || true); }
postgres_pids() { pgrep -u postgres || true; }
# Busy, softirq and idle ticks of the whole machine, from the cpu line of /proc/stat. Softirq
# is mostly the kernel moving loopback TCP packets (HTTP and PostgreSQL's protocol), time that
# no process is charged for.
machine_ticks() {
    local _cpu user nice system idle iowait irq softirq steal _rest
    read -r _cpu user nice system idle iowait irq softirq steal _rest </proc/stat
    echo "$((user + nice + system + irq + softirq + steal)) $softirq $((idle + iowait))"
}

# The machine is shared (other builds and tests may run beside the benchmark, some of them in
# other containers whose processes `ps` does not show). Waits up to QUIET_WAIT seconds for 3
# seconds in which the whole machine is at most 0.15 cores busy; goes on regardless after that.
# The report's "other" column shows what still ran beside the measured run.
wait_for_quiet() {
    local deadline=$((SECONDS + QUIET_WAIT)) before after hz
    hz=$(getconf CLK_TCK)
    while ((SECONDS < deadline)); do
        read -r before _ <<<"$(machine_ticks)"
        sleep 3
        read -r after _ <<<"$(machine_ticks)"
        if (((after - before) * 100 <= 15 * 3 * hz)); then
            return 0
        fi
    done
    log "WARNING: the machine stayed busy with other work for ${QUIET_WAIT}s; measuring anyway"
}

# $1: base URL, $2: scenario, $3: the wrk script's scenario for it (default: the same). A warm-up
# run (discarded), then the measured run; appends a row to RESULTS and one to CPU_RESULTS.
run_scenario() {
    local url=$1 scenario=$2 wrk_scenario=${3:-$2} out=$BENCH_OUT/wrk-$2.txt
    wait_for_quiet
    log "$scenario: warm-up $WARMUP, then $DURATION"
    BENCH_SCENARIO=$wrk_scenario BENCH_DATA=$DATA_FILE \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" --timeout "$TIMEOUT" -s "${WRK_SCRIPT:-$BENCH_ROOT/bench/projects.lua}" "$url" >/dev/null

    local machine_before start end
    process_ticks $(server_pids) >"$out.server-before"
    process_ticks $(postgres_pids) >"$out.pg-before"
    machine_before=$(machine_ticks)
    start=$(date +%s.%N)
    # bash's `time` gives wrk's own CPU (user, system seconds) after it has exited.
    local TIMEFORMAT='%U %S'
    { time BENCH_SCENARIO=$wrk_scenario BENCH_DATA=$DATA_FILE \
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout "$TIMEOUT" --latency \
        -s "${WRK_SCRIPT:-$BENCH_ROOT/bench/projects.lua}" "$url" >"$out"; } 2>"$out.time"
    end=$(date +%s.%N)
    local machine_after
    process_ticks $(server_pids) >"$out.server-after"
    process_ticks $(postgres_pids) >"$out.pg-after"
    machine_after=$(machine_ticks)

    local line
    line=$(grep '^BENCH_RESULT' "$out") || { cat "$out" >&2; exit 1; }
    # requests=... duration_us=... p50_us=... p99_us=... errors=... non2xx=...
    local requests duration_us p50_us p99_us errors non2xx
    read -r requests duration_us p50_us p99_us errors non2xx \
        < <(sed 's/^BENCH_RESULT //; s/[a-z0-9_]*=//g' <<<"$line")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$requests" "$duration_us" \
        "$p50_us" "$p99_us" "$errors" "$non2xx" >>"$RESULTS"
    if ((errors + non2xx > 0)); then
        log "WARNING: $scenario had $errors socket errors and $non2xx non-2xx responses (see $out)"
    fi

    local wrk_user wrk_sys
    read -r wrk_user wrk_sys <"$out.time"
    local mb ms mi ma_b ma_s ma_i
    read -r mb ms mi <<<"$machine_before"
    read -r ma_b ma_s ma_i <<<"$machine_after"
    # Cores used = ticks / CLK_TCK / wall seconds.
    awk -v s="$scenario" -v hz="$(getconf CLK_TCK)" -v start="$start" -v end="$end" \
        -v srv="$(ticks_between "$out.server-before" "$out.server-after")" \
        -v pg="$(ticks_between "$out.pg-before" "$out.pg-after")" \
        -v wu="$wrk_user" -v ws="$wrk_sys" -v rps="$(awk -v r="$requests" -v d="$duration_us" 'BEGIN { print r / (d / 1e6) }')" \
        -v busy=$((ma_b - mb)) -v sirq=$((ma_s - ms)) -v idle=$((ma_i - mi)) \
        'BEGIN {
            wall = end - start;
            server = srv / hz / wall; postgres = pg / hz / wall; wrk = (wu + ws) / wall;
            softirq = sirq / hz / wall;
            total = busy / hz / wall; other = total - server - postgres - wrk - softirq;
            if (other < 0) other = 0;
            printf "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\n", s, server, postgres, wrk, softirq,
                other, idle / hz / wall, server * 1e6 / rps, postgres * 1e6 / rps
        }' >>"$CPU_RESULTS"
}

run_scenarios() {
    local url=$1 scenario
    for scenario in $SCENARIOS; do
        run_scenario "$url" "$scenario"
    done
}

# Prints the Markdown report (and keeps a copy in BENCH_OUT/report.md).
# $1: a title, $2: the command that started the server, $3: extra lines for the machine list.
report() {
    local title=$1 server_cmd=$2 extra=$3
    local knobs="TENANTS=$TENANTS PROJECTS_PER_TENANT=$PROJECTS_PER_TENANT THREADS=$THREADS CONNECTIONS=$CONNECTIONS DURATION=$DURATION WARMUP=$WARMUP TIMEOUT=$TIMEOUT"
    local wrk_cmd="${WRK_ENV:-BENCH_SCENARIO=<get|list|post> BENCH_DATA=$DATA_FILE} wrk -t$THREADS -c$CONNECTIONS -d$DURATION --timeout $TIMEOUT --latency -s bench/projects.lua <url>"
    {
        echo "### $title"
        echo
        echo "| scenario | requests/s | p50 | p99 |"
        echo "| --- | ---: | ---: | ---: |"
        awk -F'\t' '
            function label(s) {
                if (s == "get") return "`GET /api/projects/{id}`";
                if (s == "list") return "`GET /api/projects` (50 items)";
                if (s == "post") return "`POST /api/projects`";
                if (s == "keyed") return "`POST /api/projects` with an `Idempotency-Key`";
                if (s == "filtered") return "`GET /api/tasks?project_id=…&status=…`";
                if (s == "sorted") return "`GET /api/tasks?sort=-priority`";
                if (s == "page1") return "`GET /api/tasks?limit=50`, page 1";
                if (s == "deep") return "`GET /api/tasks?limit=50&after=…`, rows 10,001-10,050";
                return s
            }
            function ms(us) { return sprintf("%.2f ms", us / 1000) }
            {
                note = ($6 + $7 > 0) ? sprintf(" (%d errors, %d non-2xx)", $6, $7) : "";
                printf "| %s | %.0f%s | %s | %s |\n", label($1), $2 / ($3 / 1e6), note, ms($4), ms($5)
            }' "$RESULTS"
        echo
        echo "CPU during each measured run, in cores (of $(nproc)); server, PostgreSQL and wrk share them."
        echo "\"other\" is CPU used by anything else on the machine meanwhile: above ~0.1 the run was"
        echo "disturbed and its requests/s are low by about that share."
        echo
        echo "| scenario | server | postgres | wrk | kernel softirq | other | idle (incl. I/O wait) | server CPU/request | postgres CPU/request |"
        echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %d µs | %d µs |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }' "$CPU_RESULTS"
        echo
        echo "- machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/^Mem:/ {print $2}') GiB, Linux $(uname -r)"
        echo "- PostgreSQL $PG_VERSION on the same machine; the server, PostgreSQL and wrk all share the $(nproc) cores"
        echo "- $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
        [[ -n $extra ]] && echo "$extra"
        echo "- data: ${DATA_DESCRIPTION:-$TENANTS tenants x $PROJECTS_PER_TENANT projects, database $BENCH_DB; each request picks a tenant (and for GET by id one of its ids) at random}"
        echo "- server: \`$server_cmd\`"
        echo "- load: \`$wrk_cmd\`, after a $WARMUP warm-up of the same scenario"
        echo "- benchmark: \`$knobs bash bench/$(basename "$0")\`"
    } | tee "$BENCH_OUT/report.md"
}
