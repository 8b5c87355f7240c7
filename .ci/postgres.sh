# Starts the machine's PostgreSQL cluster (installing the server if missing), gives the
# `scaffold` role a password for TCP connections, and exports DATABASE_URL. Sourced by
# .ci/run and bench/load.sh.

start_postgres() {
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    local version
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    if ! pg_lsclusters -h | grep -q "^$version main"; then
        pg_createcluster "$version" main >/dev/null
    fi
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
    for _ in $(seq 1 60); do
        runuser -u postgres -- pg_isready -q && break
        sleep 0.5
    done
    runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 <<'SQL'
SELECT 'CREATE ROLE scaffold LOGIN SUPERUSER' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'scaffold') \gexec
ALTER ROLE scaffold PASSWORD 'scaffold';
SELECT 'CREATE DATABASE scaffold OWNER scaffold' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'scaffold') \gexec
SQL
    export DATABASE_URL=postgres://scaffold:scaffold@127.0.0.1:5432/scaffold
}
