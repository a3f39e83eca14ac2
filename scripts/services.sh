#!/usr/bin/env bash
# Make sure the database servers that barge's tests, demo and benchmarks use are installed,
# running and reachable the way the tests reach them, on a fresh Debian machine or this one.
#
# usage: scripts/services.sh [postgres] [mariadb] [postgis] [pgloader]
#   no argument means: postgres mariadb postgis (pgloader is only installed when asked for,
#   by bench/salaries.sh).
#
# What "ready" means, and what the tests rely on:
#   - PostgreSQL accepts TCP connections on 127.0.0.1:$PG_PORT as user `postgres` without a
#     password, and a superuser role `root` exists.
#   - MariaDB accepts TCP connections on 127.0.0.1:$MYSQL_PORT as `root` with an empty password.
#   - the PostGIS extension is available to the running PostgreSQL major version.
#   - sqlite3, /usr/bin/time, openssl, psql and the mariadb client are installed.
# Servers that are already running are left alone; the script only installs, starts or opens
# access where something is missing, so it is safe to run before every test run.
#
# Environment: PG_PORT (default 5432), MYSQL_PORT (default 3306), SERVICES_WAIT_SECONDS
# (default 60, how long to wait for a server to accept connections).
set -euo pipefail

PG_PORT="${PG_PORT:-5432}"
MYSQL_PORT="${MYSQL_PORT:-3306}"
WAIT_SECONDS="${SERVICES_WAIT_SECONDS:-60}"
MARIADB_STDOUT_LOG=/var/log/mysql/mariadbd.stdout.log

log() { printf 'services: %s\n' "$*" >&2; }
die() {
    printf 'services: error: %s\n' "$*" >&2
    exit 1
}

# Package installs need root; in CI and on the dev machines we are root already.
SUDO=()
if [[ ${EUID} -ne 0 ]]; then
    command -v sudo >/dev/null || die "not root and no sudo: cannot install or start servers"
    SUDO=(sudo)
fi
as_root() { "${SUDO[@]}" "$@"; }

APT_UPDATED=0
# apt-get update runs at most once per invocation, and only when something is missing; the
# lock timeout lets us wait for another apt process (e.g. a provisioning job) instead of failing.
apt_install() {
    command -v apt-get >/dev/null || die "cannot install $*: apt-get not found (this script supports Debian/Ubuntu)"
    local apt_opts=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
    if [[ ${APT_UPDATED} -eq 0 ]]; then
        log "apt-get update"
        as_root apt-get "${apt_opts[@]}" update -qq
        APT_UPDATED=1
    fi
    log "installing: $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq \
        --no-install-recommends "$@" >/dev/null
}

# Waits until "$@" succeeds, polling every 0.25 s, for at most WAIT_SECONDS.
wait_until() {
    local deadline=$((SECONDS + WAIT_SECONDS))
    until "$@"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.25
    done
}

ensure_tools() {
    local missing=()
    command -v sqlite3 >/dev/null || missing+=(sqlite3)
    # bench/ reads peak RSS from GNU time; the bash keyword `time` cannot report it.
    [[ -x /usr/bin/time ]] || missing+=(time)
    # The MySQL TLS test makes its own certificate authority.
    command -v openssl >/dev/null || missing+=(openssl)
    if ((${#missing[@]})); then apt_install "${missing[@]}"; fi
}

# ---------------------------------------------------------------------------- PostgreSQL

pg_tcp() {
    # -w: never prompt for a password; a prompt would hang CI, which has no stdin.
    psql "host=127.0.0.1 port=${PG_PORT} user=postgres dbname=postgres connect_timeout=5" \
        -w -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

pg_accepting() { pg_isready -q -h 127.0.0.1 -p "${PG_PORT}" -t 2; }

# Prints "VERSION NAME" of the cluster configured for PG_PORT, or nothing.
pg_cluster_for_port() {
    pg_lsclusters -h 2>/dev/null | awk -v port="${PG_PORT}" '$3 == port { print $1, $2; exit }'
}

ensure_postgres() {
    local ver name cluster
    # Fast path: a running server with the access the tests use; nothing to do.
    if command -v pg_isready >/dev/null && pg_accepting &&
        [[ "$(pg_tcp -c "select rolsuper from pg_roles where rolname = 'root'" 2>/dev/null)" == t ]]; then
        return 0
    fi

    if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || ! command -v pg_ctlcluster >/dev/null; then
        apt_install postgresql postgresql-client
    fi
    command -v psql >/dev/null || apt_install postgresql-client

    cluster="$(pg_cluster_for_port)"
    if [[ -z ${cluster} ]]; then
        # The package normally creates "main"; it does not when create_main_cluster is off,
        # or when another cluster already holds the port we need.
        ver="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)"
        name=main
        if pg_lsclusters -h 2>/dev/null | awk -v v="${ver}" '$1 == v && $2 == "main" { f = 1 } END { exit !f }'; then
            die "PostgreSQL cluster ${ver}/main exists but not on port ${PG_PORT}; see pg_lsclusters"
        fi
        log "creating PostgreSQL cluster ${ver}/${name} on port ${PG_PORT}"
        as_root pg_createcluster --port "${PG_PORT}" "${ver}" "${name}" >/dev/null
        cluster="${ver} ${name}"
    fi
    read -r ver name <<<"${cluster}"

    if ! pg_accepting; then
        log "starting PostgreSQL ${ver}/${name}"
        # No systemd here: --skip-systemctl-redirect makes pg_ctlcluster start it directly.
        as_root pg_ctlcluster --skip-systemctl-redirect "${ver}" "${name}" start ||
            log "pg_ctlcluster start failed; waiting in case the server is coming up anyway"
        if ! wait_until pg_accepting; then
            tail -n 20 "/var/log/postgresql/postgresql-${ver}-${name}.log" >&2 2>/dev/null || true
            die "PostgreSQL ${ver}/${name} does not accept connections on 127.0.0.1:${PG_PORT} after ${WAIT_SECONDS} s (log above)"
        fi
    fi

    if ! pg_tcp -c 'select 1' >/dev/null 2>&1; then
        # A fresh Debian cluster uses peer (socket) and scram (TCP) auth. The tests connect
        # over TCP without a password, so trust loopback only; first matching line wins.
        local hba tmp
        hba="$(as_root runuser -u postgres -- psql -p "${PG_PORT}" -X -A -t -c 'show hba_file')" ||
            die "cannot reach PostgreSQL ${ver}/${name} as OS user postgres to find pg_hba.conf"
        log "adding loopback trust lines to ${hba}"
        tmp="$(mktemp)"
        {
            echo '# added by barge scripts/services.sh: tests connect over loopback without a password'
            echo 'host all all 127.0.0.1/32 trust'
            echo 'host all all ::1/128 trust'
            as_root cat "${hba}"
        } >"${tmp}"
        # Write into the existing file (not mv) to keep its owner and mode.
        as_root tee "${hba}" <"${tmp}" >/dev/null
        rm -f "${tmp}"
        as_root pg_ctlcluster --skip-systemctl-redirect "${ver}" "${name}" reload
        wait_until pg_tcp -c 'select 1' >/dev/null 2>&1 ||
            die "still cannot connect as postgres to 127.0.0.1:${PG_PORT} after editing ${hba}"
    fi

    if [[ "$(pg_tcp -c "select rolsuper from pg_roles where rolname = 'root'")" != t ]]; then
        log "making PostgreSQL role root a superuser"
        pg_tcp -c "do \$\$ begin
                     if exists (select from pg_roles where rolname = 'root')
                     then alter role root superuser login;
                     else create role root superuser login;
                     end if; end \$\$" >/dev/null
    fi
}

ensure_postgis() {
    local major
    if [[ "$(pg_tcp -c "select count(*) from pg_available_extensions where name = 'postgis'")" == 1 ]]; then
        return 0
    fi
    # The package must match the major version of the server we are talking to.
    major="$(pg_tcp -c 'show server_version_num')"
    major=$((major / 10000))
    apt_install "postgresql-${major}-postgis-3"
    [[ "$(pg_tcp -c "select count(*) from pg_available_extensions where name = 'postgis'")" == 1 ]] ||
        die "installed postgresql-${major}-postgis-3 but PostgreSQL does not list the postgis extension"
}

# ---------------------------------------------------------------------------- MariaDB

my_tcp() {
    mariadb --protocol=tcp -h 127.0.0.1 -P "${MYSQL_PORT}" -u root --connect-timeout=5 \
        --batch --skip-column-names "$@"
}

# mariadb-admin ping exits 0 as soon as the server answers, even with "access denied", which
# is what we want here: liveness, separately from the login check.
my_alive() {
    mariadb-admin --protocol=tcp -h 127.0.0.1 -P "${MYSQL_PORT}" -u root --connect-timeout=2 ping \
        >/dev/null 2>&1
}

ensure_mariadb() {
    if command -v mariadb-admin >/dev/null && my_alive && my_tcp -e 'select 1' >/dev/null 2>&1; then
        return 0
    fi

    [[ -x /usr/sbin/mariadbd ]] || apt_install mariadb-server
    command -v mariadb-admin >/dev/null || apt_install mariadb-client

    if ! my_alive; then
        # The server writes its pid file and socket here; /run is a tmpfs, so after a reboot
        # of a container it is gone and mariadbd would refuse to start.
        as_root install -d -o mysql -g mysql -m 0755 /run/mysqld
        if [[ ! -d /var/lib/mysql/mysql ]]; then
            log "initialising the MariaDB data directory"
            as_root mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
        fi
        as_root install -d -o mysql -g adm -m 0750 /var/log/mysql
        log "starting MariaDB"
        # No systemd: start the daemon directly; it switches to user mysql from my.cnf.
        # --output keeps what it prints before its error log is open (bad config, etc.).
        as_root start-stop-daemon --start --oknodo --background \
            --output "${MARIADB_STDOUT_LOG}" --exec /usr/sbin/mariadbd
        if ! wait_until my_alive; then
            as_root tail -n 20 "${MARIADB_STDOUT_LOG}" >&2 2>/dev/null || true
            as_root tail -n 20 /var/log/mysql/error.log >&2 2>/dev/null || true
            die "MariaDB does not accept connections on 127.0.0.1:${MYSQL_PORT} after ${WAIT_SECONDS} s (log above)"
        fi
    fi

    if ! my_tcp -e 'select 1' >/dev/null 2>&1; then
        # Fresh Debian: root@localhost authenticates only via unix_socket, so a TCP login
        # fails. Keep the socket login and add an empty password for TCP.
        log "allowing MariaDB root login over TCP with an empty password"
        as_root mariadb --protocol=socket -u root -e \
            "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket"
        if ! my_tcp -e 'select 1' >/dev/null 2>&1; then
            # With skip-name-resolve, 127.0.0.1 does not match 'localhost'.
            as_root mariadb --protocol=socket -u root -e \
                "CREATE USER IF NOT EXISTS root@'127.0.0.1' IDENTIFIED BY '';
                 GRANT ALL PRIVILEGES ON *.* TO root@'127.0.0.1' WITH GRANT OPTION"
        fi
        my_tcp -e 'select 1' >/dev/null ||
            die "MariaDB root still cannot log in over TCP on 127.0.0.1:${MYSQL_PORT}"
    fi
}

# ---------------------------------------------------------------------------- main

want_pg=0 want_my=0 want_gis=0 want_pgloader=0
(($#)) || set -- postgres mariadb postgis
for arg in "$@"; do
    case "${arg}" in
        postgres | postgresql | pg) want_pg=1 ;;
        mariadb | mysql) want_my=1 ;;
        postgis) want_pg=1 want_gis=1 ;;
        pgloader) want_pgloader=1 ;;
        -h | --help)
            sed -n '2,20p' "$0"
            exit 0
            ;;
        *) die "unknown service \`${arg}\` (expected postgres, mariadb, postgis or pgloader)" ;;
    esac
done

ensure_tools
if ((want_pg)); then ensure_postgres; fi
if ((want_gis)); then ensure_postgis; fi
if ((want_my)); then ensure_mariadb; fi
if ((want_pgloader)) && ! command -v pgloader >/dev/null; then apt_install pgloader; fi
exit 0
