#!/usr/bin/env bash
# The baseline for bench/load.sh: the same three routes in FastAPI + async SQLAlchemy (asyncpg),
# bench/fastapi/app.py, under uvicorn, driven by the same wrk runs against the same freshly
# seeded database. The Rust server is still built and used, but only to create the schema,
# the tenants and the tokens, so both servers see exactly the same tables and data.
#
#   bash bench/fastapi.sh
#   WORKERS=2 FASTAPI_POOL_SIZE=8 bash bench/fastapi.sh
#
# Knobs: see bench/lib.sh; WORKERS (uvicorn worker processes, default: the core count) and
# FASTAPI_POOL_SIZE (connections per worker, default 8: 2 x 8 = the Rust server's 16).
set -euo pipefail

source "$(dirname "$0")/lib.sh"
bench_init fastapi

WORKERS=${WORKERS:-$(nproc)}
FASTAPI_POOL_SIZE=${FASTAPI_POOL_SIZE:-8}
VENV=$BENCH_ROOT/bench/.venv

ensure_wrk
setup_database
build_server
seed

# The venv is rebuilt only when requirements.txt changed since it was made.
if [[ ! -x $VENV/bin/uvicorn || $BENCH_ROOT/bench/fastapi/requirements.txt -nt $VENV/.installed ]]; then
    log "installing the FastAPI baseline into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r "$BENCH_ROOT/bench/fastapi/requirements.txt"
    touch "$VENV/.installed"
fi

port=$(free_port)
url=http://127.0.0.1:$port
log "starting uvicorn on $url ($WORKERS workers, $FASTAPI_POOL_SIZE connections each)"
# --no-access-log and warning level: like RUST_LOG=warn for the Rust server, no per-request log.
DATABASE_POOL_SIZE=$FASTAPI_POOL_SIZE "$VENV/bin/uvicorn" app:app \
    --app-dir "$BENCH_ROOT/bench/fastapi" --host 127.0.0.1 --port "$port" \
    --workers "$WORKERS" --no-access-log --log-level warning \
    >"$BENCH_OUT/server.log" 2>&1 &
SERVER_PID=$!
wait_for_server "$url"
smoke_test "$url"

run_scenarios "$url"
stop_server

report "FastAPI baseline (bench/fastapi: FastAPI + SQLAlchemy async + asyncpg, uvicorn)" \
    "DATABASE_POOL_SIZE=$FASTAPI_POOL_SIZE bench/.venv/bin/uvicorn app:app --app-dir bench/fastapi --host 127.0.0.1 --port $port --workers $WORKERS --no-access-log --log-level warning" \
    "- $("$VENV/bin/python" --version), $("$VENV/bin/pip" freeze | grep -iE '^(fastapi|uvicorn|sqlalchemy|asyncpg|uvloop)==' | paste -sd' ')
- uvicorn: $WORKERS worker processes, $FASTAPI_POOL_SIZE database connections each (the Rust server: one process, 16 by default)"
