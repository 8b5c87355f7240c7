#!/usr/bin/env bash
# How long `scaffold new module` takes as a whole process (start, parse, render, rustfmt,
# compare, staged write, exit) for a module of 1, 10 and 50 fields, into a fresh copy of
# examples/server's generation inputs on every run; and, to say what dominates, the same
# without rustfmt (RUSTFMT=true), with --dry-run, the bare process start, and rustfmt alone.
#
#   bash bench/generate.sh
#   RUNS=50 bash bench/generate.sh
#
# Knobs: RUNS (timed runs per command, default 30), WARMUP (default 3),
# BENCH_OUT (default target/bench/generate: hyperfine's JSON and report.md),
# PROFILE=1 (also sample one run with perf, if installed, and list the big steps),
# SCAFFOLD (a scaffold binary to time instead of building this tree's, e.g. an older
# release build to compare with).
# Needs hyperfine; installs it from Debian packages when missing.
set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$BENCH_ROOT/target}
BENCH_OUT=${BENCH_OUT:-$TARGET_DIR/bench/generate}
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
SCAFFOLD=${SCAFFOLD:-}

log() { printf '==> %s\n' "$*" >&2; }

if ! command -v hyperfine >/dev/null; then
    log "installing hyperfine from Debian packages"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine >/dev/null
fi

if [[ -z $SCAFFOLD ]]; then
    log "building scaffold (release)"
    (cd "$BENCH_ROOT" && cargo build --release -q -p scaffold --bin scaffold)
    SCAFFOLD=$TARGET_DIR/release/scaffold
fi

mkdir -p "$BENCH_OUT"
# Other processes on the machine stretch every number; the report says how busy it was.
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# What generation reads, as scaffold.toml says (tests/example_server copies the same),
# with scaffold's record of the modules it generated (.scaffold) when there is one.
PRISTINE=$WORK/pristine
mkdir -p "$PRISTINE"
for path in scaffold.toml Cargo.toml src migrations .scaffold; do
    if [[ -e $BENCH_ROOT/examples/server/$path ]]; then
        cp -a "$BENCH_ROOT/examples/server/$path" "$PRISTINE/"
    fi
done
RUN_DIR=$WORK/project
# One command, so that it also runs under hyperfine's --shell=none.
cat >"$WORK/reset.sh" <<EOF
rm -rf '$RUN_DIR' && cp -a '$PRISTINE' '$RUN_DIR'
EOF

export NO_COLOR=1 SOURCE_DATE_EPOCH=1740830400

# N fields cycling through every type and modifier; printed single-quoted for hyperfine.
fields() {
    local n=$1 i kinds
    kinds=(string 'text?' 'int:index' 'bigint?' float 'decimal?' bool 'uuid:unique' 'date?'
        datetime 'json?' 'enum(todo,doing,done)' 'string(40)?:unique' 'ref(projects)?')
    for ((i = 0; i < n; i++)); do
        printf "'f%02d:%s' " "$i" "${kinds[i % ${#kinds[@]}]}"
    done
}

# $1: a name for the JSON file; the rest: hyperfine arguments.
bench() {
    local name=$1
    shift
    hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --style basic \
        --export-json "$BENCH_OUT/$name.json" "$@" >"$BENCH_OUT/$name.txt"
}

SIZES=(1 10 50)
write_cmds=() dry_cmds=()
for n in "${SIZES[@]}"; do
    write_cmds+=(-n "write $n" --prepare "bash $WORK/reset.sh"
        "$SCAFFOLD -C $RUN_DIR new module widgets $(fields "$n")")
    dry_cmds+=(-n "dry-run $n" "$SCAFFOLD -C $PRISTINE new module widgets $(fields "$n") --dry-run")
done

# Sanity: the 50-field module generates (and its tests template renders) without error.
bash "$WORK/reset.sh"
eval "$SCAFFOLD -C $RUN_DIR new module widgets $(fields 50)" >/dev/null

log "timing the write path (fresh copy before each run)"
bench write "${write_cmds[@]}"
log "timing --dry-run"
bench dry-run "${dry_cmds[@]}"
log "timing the write path without rustfmt (RUSTFMT=true)"
RUSTFMT=true bench write-no-rustfmt "${write_cmds[@]}"
log "timing --dry-run without rustfmt (RUSTFMT=true): the generator's own work, no disk writes"
RUSTFMT=true bench dry-run-no-rustfmt "${dry_cmds[@]}"

# The parts: process start and argument parsing alone; the process that RUSTFMT=true runs
# in rustfmt's place, which the no-rustfmt figures still include; rustfmt alone on the 50-field
# module's files, through the rustup proxy (what `rustfmt` on PATH is) and directly.
bash "$WORK/reset.sh"
eval "$SCAFFOLD -C $RUN_DIR new module widgets $(fields 50)" >/dev/null
FILES=$(ls "$RUN_DIR"/src/modules/widgets/*.rs | tr '\n' ' ')
direct_rustfmt=$(rustup which rustfmt 2>/dev/null || command -v rustfmt)
log "timing the parts"
bench parts \
    -n "scaffold --version" "$SCAFFOLD --version" \
    -n "true (RUSTFMT=true's formatter)" "true --edition 2024 $FILES" \
    -n "rustfmt (PATH) on 50 fields" "rustfmt --edition 2024 $FILES" \
    -n "rustfmt (direct) on 50 fields" "$direct_rustfmt --edition 2024 $FILES"

# With PROFILE=1 and perf installed: where the time goes inside scaffold (without rustfmt),
# as the share of samples under each of its top-level steps.
profile() {
    bash "$WORK/reset.sh"
    RUSTFMT=true perf record -q -F 15000 --call-graph dwarf,65528 -o "$BENCH_OUT/perf.data" \
        "$SCAFFOLD" -C "$RUN_DIR" new module widgets f00:string f01:int >/dev/null 2>&1
    perf report -i "$BENCH_OUT/perf.data" --children --sort symbol --stdio -g none 2>/dev/null |
        grep -E '\] (scaffold::(main|spec::ModuleSpec::parse|render::Renderer::(new|render)|format::format_rust|apply::(compare|commit_with)|plan::plan)|pluralizer::BuiltinRules::new|tera::tera::Tera::add_raw_templates) ' |
        awk '{printf "    %7s  %s\n", $1, $4}'
}

median_table() {
    python3 - "$@" <<'EOF'
import json, os, sys
for path in sys.argv[1:]:
    suite = os.path.basename(path).removesuffix(".json")
    for r in json.load(open(path))["results"]:
        cpu = (r['user'] + r['system']) * 1000
        print(f"| {suite:<18} | {r['command']:<30} | {r['median']*1000:9.2f} | {r['min']*1000:8.2f} | {r['max']*1000:8.2f} | {cpu:9.2f} |")
EOF
}

{
    echo "# scaffold new module: whole-process time ($(nproc) cores, $RUNS runs each)"
    echo
    echo "load average before: $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "| suite              | command                        | median ms |   min ms |   max ms |    CPU ms |"
    echo "|--------------------|--------------------------------|----------:|---------:|---------:|----------:|"
    median_table "$BENCH_OUT"/{write,write-no-rustfmt,dry-run,dry-run-no-rustfmt,parts}.json
    echo
    echo "write: into a fresh copy of examples/server (reset by --prepare, not timed);"
    echo "write-no-rustfmt: the same with RUSTFMT=true (output left unformatted);"
    echo "dry-run-no-rustfmt: --dry-run with RUSTFMT=true, the generator's own work alone;"
    echo "rustfmt: on the 50-field module's files; PATH is the rustup proxy."
    echo "CPU ms: mean user + system time (rustfmt's included), less stretched by a busy machine."
    if [[ ${PROFILE:-0} == 1 ]] && command -v perf >/dev/null; then
        echo
        echo "perf, 2 fields, RUSTFMT=true: share of samples under each step"
        echo
        profile
    fi
} | tee "$BENCH_OUT/report.md"
