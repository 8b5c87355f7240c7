#!/usr/bin/env bash
# The request path's candidate mechanisms against each other (issue 13): one tenant's GET by
# id, run by bench/shapes (Rust, sqlx and tokio-postgres) straight against PostgreSQL, with no
# HTTP in between. See bench/shapes/src/main.rs for the shapes.
#
#   bash bench/shapes.sh
#   TENANTS=1000 PROJECTS_PER_TENANT=100 bash bench/shapes.sh today pipelined
#
# Knobs: TENANTS and PROJECTS_PER_TENANT (bench/lib.sh), WORKERS=64 concurrent requests,
# WARMUP_SECS=3, DURATION_SECS=10 per shape. Needs root, as bench/load.sh does.
set -euo pipefail

source "$(dirname "$0")/lib.sh"
bench_init shapes

setup_database
build_server
seed
log "building bench/shapes (release)"
(cd "$BENCH_ROOT/bench/shapes" && CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$BENCH_ROOT/target} cargo build --release -q)

shapes=${*:-today today-own-pool pipelined qualified qualified-unprepared qualified-pipelined}
wait_for_quiet
"${CARGO_TARGET_DIR:-$BENCH_ROOT/target}/release/shapes" $shapes | tee "$BENCH_OUT/report.md"
echo
echo "- $TENANTS tenants x $PROJECTS_PER_TENANT projects; ${WORKERS:-64} concurrent requests over 16 connections (4 groups of 4); ${WARMUP_SECS:-3} s warm-up, ${DURATION_SECS:-10} s measured per shape"
echo "- machine: $(nproc) cores, PostgreSQL $PG_VERSION; bench and PostgreSQL share the cores"
