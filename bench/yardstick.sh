#!/usr/bin/env bash
# The reference server against the yardstick (bench/yardstick/src/main.rs: the least a correct
# server of the same routes must do), by the same wrk runs as bench/load.sh, alternated in one
# sitting: per round, the reference server, then the yardstick with each driver, each started
# afresh and loaded with GET /api/projects/{id}, GET /api/projects and POST /api/projects.
# Prints every run, then per scenario the medians and the reference server's share of each
# yardstick's requests/s.
#
#   bash bench/yardstick.sh
#   ROUNDS=5 DRIVERS=tokio-postgres bash bench/yardstick.sh
#
# Knobs: those of bench/lib.sh (TENANTS, PROJECTS_PER_TENANT, THREADS, CONNECTIONS, DURATION,
# WARMUP, SCENARIOS, QUIET_WAIT, SERVER, ...), and
#   ROUNDS=3  DRIVERS="sqlx tokio-postgres"  BENCH_DB=scaffold_yardstick
#   FROM_COMMIT=<rev>: the reference server as committed there, not the working tree's
#   CARGO_TARGET_DIR=target/bench (release builds of both servers, away from the workspace's)
# Needs root (apt-get, .ci/postgres.sh).
set -euo pipefail

export BENCH_DB=${BENCH_DB:-scaffold_yardstick}
BENCH_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$BENCH_ROOT/target/bench}
ROUNDS=${ROUNDS:-3}
DRIVERS=${DRIVERS:-sqlx tokio-postgres}
source "$(dirname "$0")/lib.sh"
bench_init yardstick

ensure_wrk
setup_database
if [[ -n ${FROM_COMMIT:-} && -z ${SERVER:-} ]]; then
    src=$(commit_sources "$FROM_COMMIT")
    log "building the server of $FROM_COMMIT (release)"
    (cd "$src" && cargo build --release -q -p server)
else
    build_server
fi
seed
log "building bench/yardstick (release)"
(cd "$BENCH_ROOT/bench/yardstick" && cargo build --release -q)
YARDSTICK_BIN=$CARGO_TARGET_DIR/release/yardstick

# $1: the driver. Like start_rust_server, for the yardstick.
start_yardstick() {
    local port
    port=$(free_port)
    url=http://127.0.0.1:$port
    log "starting the yardstick (DRIVER=$1) on $url"
    DRIVER=$1 POOL_SIZE=${DATABASE_POOL_SIZE:-16} BIND_ADDR=127.0.0.1:$port \
        "$YARDSTICK_BIN" >"$BENCH_OUT/yardstick.log" 2>&1 &
    SERVER_PID=$!
    wait_for_server "$url"
}

for round in $(seq 1 "$ROUNDS"); do
    for server in ours $DRIVERS; do
        if [[ $server == ours ]]; then
            start_rust_server
        else
            start_yardstick "$server"
        fi
        smoke_test "$url"
        for scenario in $SCENARIOS; do
            run_scenario "$url" "$server:$scenario:$round" "$scenario"
        done
        stop_server
    done
done

python3 - "$RESULTS" "$CPU_RESULTS" "$DRIVERS" <<'EOF' | tee "$BENCH_OUT/report.md"
import statistics, sys
results, cpu, drivers = sys.argv[1], sys.argv[2], sys.argv[3].split()
runs = {}
for line in open(results):
    name, requests, duration_us, p50, p99, errors, non2xx = line.rstrip("\n").split("\t")
    runs[name] = {"rps": int(requests) / (int(duration_us) / 1e6), "p99": int(p99) / 1000,
                  "errors": int(errors) + int(non2xx)}
for line in open(cpu):
    f = line.rstrip("\n").split("\t")
    runs[f[0]].update(server_us=int(f[7]), pg_us=int(f[8]), other=float(f[5]))
print("| server | scenario | round | requests/s | p99 | errors | server CPU/req | PostgreSQL CPU/req | other |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for name, r in runs.items():
    server, scenario, rnd = name.split(":")
    print(f"| {server} | {scenario} | {rnd} | {r['rps']:.0f} | {r['p99']:.1f} ms | {r['errors']} | "
          f"{r['server_us']} µs | {r['pg_us']} µs | {r['other']:.2f} |")
def of(server, scenario, key):
    return [r[key] for n, r in runs.items() if n.split(":")[:2] == [server, scenario]]
print()
head = " | ".join(f"{d}: req/s (range), server CPU/req | ours / {d}" for d in drivers)
print(f"| scenario | ours: req/s (range), server CPU/req | {head} |")
print("| --- | ---: | " + " | ".join("---: | ---:" for _ in drivers) + " |")
scenarios = list(dict.fromkeys(n.split(":")[1] for n in runs))
for scenario in scenarios:
    def cell(server):
        rps = of(server, scenario, "rps")
        return (f"{statistics.median(rps):.0f} ({min(rps):.0f}-{max(rps):.0f}), "
                f"{statistics.median(of(server, scenario, 'server_us')):.0f} µs")
    ours = statistics.median(of("ours", scenario, "rps"))
    cells = [cell("ours")]
    for d in drivers:
        cells += [cell(d), f"{ours / statistics.median(of(d, scenario, 'rps')):.2f}"]
    print(f"| {scenario} | " + " | ".join(cells) + " |")
EOF
echo "- $(nproc) cores, PostgreSQL $PG_VERSION; $TENANTS tenants x $PROJECTS_PER_TENANT projects; wrk -t$THREADS -c$CONNECTIONS, $WARMUP warm-up, $DURATION measured; every server started afresh per round, 16 connections each; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" |
    tee -a "$BENCH_OUT/report.md"
