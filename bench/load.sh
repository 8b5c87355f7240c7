#!/usr/bin/env bash
# Load benchmark of the reference server (examples/server) with wrk:
#   GET /api/projects/{id}, GET /api/projects (default page of 50), POST /api/projects,
# spread over several tenants, against a freshly seeded database `scaffold_bench`.
# Prints a Markdown table (requests/s, p50, p99) and the CPU split between server, PostgreSQL
# and wrk, which all run on this machine and share its cores.
#
#   bash bench/load.sh
#   DATABASE_POOL_SIZE=8 DURATION=10s CONNECTIONS=64 bash bench/load.sh
#
# Knobs: see bench/lib.sh; DATABASE_POOL_SIZE and RUST_LOG (default warn) go to the server.
# Needs root (apt-get, and .ci/postgres.sh runs psql as the postgres user).
set -euo pipefail

source "$(dirname "$0")/lib.sh"
bench_init rust

ensure_wrk
setup_database
build_server
seed

start_rust_server
smoke_test "$url"

run_scenarios "$url"
stop_server

report "Rust server (examples/server, axum + sqlx)" \
    "RUST_LOG=$RUST_LOG DATABASE_POOL_SIZE=${DATABASE_POOL_SIZE:-16} BIND_ADDR=$BIND_ADDR target/release/server serve" \
    "- server build: ${SERVER:-cargo build --release -p server} ($(rustc --version))"
