#!/usr/bin/env bash
# Checks that the server does what its OpenAPI document says: Schemathesis (pinned in
# scripts/conformance/requirements.txt, installed into a virtual environment here) reads only
# the document, sends generated requests, valid and invalid, to a running server with a fresh
# tenant and a token holding every permission the document names, and runs all its checks
# (status codes, content types, headers and bodies as documented, schema-valid requests
# accepted, invalid ones refused, no 5xx, deleted resources gone, ...). Exits non-zero on any
# finding.
#
#   DATABASE_URL=postgres://... scripts/conformance.sh [--binary PATH] [--seconds N] [--seed N]
#
# --binary   the server to check (default: builds and runs this repository's examples/server;
#            in an app made by `scaffold new app`, its own server)
# --seconds  Schemathesis's time budget (default 180)
# --seed     its random seed (default 1), so that a run can be repeated
# DATABASE_URL must name a database the script may migrate and add the tenant `conformance` to
# (it deletes that tenant first). The virtual environment goes to target/conformance-venv, or
# CONFORMANCE_VENV.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
binary=""
seconds=180
seed=1
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "conformance: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
: "${DATABASE_URL:?conformance: set DATABASE_URL to a PostgreSQL database the check may use}"

venv="${CONFORMANCE_VENV:-$root/target/conformance-venv}"
requirements="$root/scripts/conformance/requirements.txt"
if ! cmp -s "$requirements" "$venv/requirements.txt" 2>/dev/null; then
    echo "conformance: installing Schemathesis into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv" || {
        echo "conformance: python3 -m venv failed; on Debian, apt-get install python3-venv" >&2
        exit 1
    }
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/requirements.txt"
fi

if [ -z "$binary" ]; then
    # This repository's reference server, or an app made by `scaffold new app` (whose package
    # and binary carry the app's name).
    manifest="$root/Cargo.toml"
    [ -f "$root/examples/server/Cargo.toml" ] && manifest="$root/examples/server/Cargo.toml"
    name="$(sed -n 's/^name = "\(.*\)"$/\1/p' "$manifest" | head -n 1)"
    cargo build --quiet --manifest-path "$manifest" --bin "$name"
    binary="$(cargo metadata --format-version 1 --no-deps --manifest-path "$manifest" |
        "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/debug/$name"
fi

# A secret of this run only: its tokens are worth nothing after it.
export JWT_SECRET="conformance-$("$venv/bin/python" -c 'import secrets; print(secrets.token_hex(24))')"
export RUST_LOG="${RUST_LOG:-warn}"
log="$(mktemp -t conformance-server.XXXXXX)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -f "$log"
}
trap cleanup EXIT

"$binary" migrate >/dev/null
"$binary" tenant delete conformance --yes >/dev/null 2>&1 || true
"$binary" tenant create conformance >/dev/null
permissions="$("$binary" openapi | "$venv/bin/python" -c '
import json, sys
document = json.load(sys.stdin)
scopes = {scope
          for item in document["paths"].values() for operation in item.values()
          if isinstance(operation, dict)
          for requirement in operation.get("security", []) for names in requirement.values()
          for scope in names}
print(",".join(sorted(scopes)))')"
token="$("$binary" token --tenant conformance --user conformance --permissions "$permissions")"

port="$("$venv/bin/python" -c '
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])')"
BIND_ADDR="127.0.0.1:$port" "$binary" serve >"$log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
if ! "$venv/bin/python" -c '
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(sys.argv[1] + "/readyz", timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)' "$base"; then
    echo "conformance: the server did not become ready at $base; its log:" >&2
    cat "$log" >&2
    exit 1
fi

echo "conformance: Schemathesis against $binary, all checks, seed $seed, ${seconds}s" >&2
status=0
SCHEMATHESIS_HOOKS="$root/scripts/conformance/hooks.py" "$venv/bin/st" \
    --config-file "$root/scripts/conformance/schemathesis.toml" \
    run "$base/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks all \
    --seed "$seed" \
    --max-time "$seconds" \
    --generation-database none \
    --no-color || status=$?
if [ "$status" -ne 0 ]; then
    echo "conformance: Schemathesis found the server and its document disagree (exit $status)." >&2
    echo "conformance: the server's log:" >&2
    tail -n 50 "$log" >&2
fi
exit "$status"
