# start_postgres [DATABASE]: starts the machine's PostgreSQL cluster (installing the server if
# it is missing), gives the `scaffold` role a password for TCP connections, creates DATABASE
# (default: scaffold) and exports DATABASE_URL for it. Sourced by .ci/run, bench/ and the
# README; needs root.

start_postgres() {
    local database=${1:-scaffold}
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    local version
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    if ! pg_lsclusters -h | grep -q "^$version main"; then
        pg_createcluster "$version" main >/dev/null
    fi
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
    for _ in $(seq 1 60); do
        runuser -u postgres -- pg_isready -q && break
        sleep 0.5
    done
    runuser -u postgres -- psql -q -v ON_ERROR_STOP=1 -v database="$database" <<'SQL'
SELECT 'CREATE ROLE scaffold LOGIN SUPERUSER' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'scaffold') \gexec
ALTER ROLE scaffold PASSWORD 'scaffold';
SELECT format('CREATE DATABASE %I OWNER scaffold', :'database') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'database') \gexec
SQL
    export DATABASE_URL=postgres://scaffold:scaffold@127.0.0.1:5432/$database
}
