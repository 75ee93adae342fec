# pg.sh - a private PostgreSQL 15 server on 127.0.0.1 for the tests of the
# PostgreSQL state backend (POSIX sh; the same idea as lib/sshd.sh). Source
# it, then:
#
#   pg_start DIR      initdb a fresh cluster, start it on 127.0.0.1 at a free
#                     high port, create the test role (scram-sha-256
#                     password) and database, wait until a real password
#                     login works. 0 = up; 1 = could not start, reason in
#                     $PG_WHY (the caller reports its tests skipped).
#   pg_stop           stop it by the postmaster's PID (postmaster.pid), wait
#                     until it is gone, remove the cluster; idempotent.
#   pg_newdb NAME     a fresh empty database owned by the test role; prints
#                     its URL.
#   pg_kill_immediate pg_ctl stop -m immediate (a crash: no checkpoint).
#   pg_restart        start the stopped cluster again (same port).
#   pg_psql DB SQL    run SQL as the superuser over the unix socket.
#
# After pg_start: PG_PORT PG_PID PG_URL (postgres://ROLE@127.0.0.1:PORT/DB,
# no password) PG_PASSWORD_ENV (the name of the exported variable that
# holds the password: SP_TEST_PG_PASSWORD) PG_ROLE PG_DB PG_LOG.
#
# initdb and postgres refuse to run as root. As root the cluster lives in
# its own mktemp folder owned by the postgres system user (the caller's DIR
# may sit under a 0700 folder postgres cannot enter) and the server
# programs run through `runuser -u postgres --`. The unix socket is inside
# that folder, never in /var/run/postgresql.

PG_PID=
PG_WHY=
PG_HOME=
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_ROLE=sp_test
PG_DB=sp_test
PG_PASSWORD_ENV=SP_TEST_PG_PASSWORD

_pg_as() { # run a server program as the user that owns the cluster
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

_pg_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

pg_psql() { # pg_psql DB SQL
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_HOME/sock" -p "$PG_PORT" \
		-U spadmin -d "$1" -At -c "$2"
}

pg_start() {
	_d=$1
	PG_WHY=
	for _p in initdb pg_ctl postgres psql; do
		[ -x "$PG_BIN/$_p" ] ||
			{ PG_WHY="no $PG_BIN/$_p (apt-get install postgresql)"; return 1; }
	done
	command -v python3 >/dev/null 2>&1 || { PG_WHY="python3 not installed"; return 1; }
	mkdir -p "$_d" || { PG_WHY="cannot create $_d"; return 1; }
	if [ "$(id -u)" = 0 ]; then
		command -v runuser >/dev/null 2>&1 || { PG_WHY="no runuser"; return 1; }
		id postgres >/dev/null 2>&1 ||
			{ PG_WHY="running as root and there is no postgres user"; return 1; }
		PG_HOME=$(mktemp -d "${TMPDIR:-/tmp}/sp-pg.XXXXXX") ||
			{ PG_WHY="mktemp failed"; return 1; }
		chown postgres "$PG_HOME" || { PG_WHY="cannot chown $PG_HOME"; return 1; }
	else
		PG_HOME=$_d/pg
		mkdir -p "$PG_HOME" || { PG_WHY="cannot create $PG_HOME"; return 1; }
	fi
	PG_LOG=$PG_HOME/server.log
	# A new random password per server; the tests read it from the env.
	SP_TEST_PG_PASSWORD=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
	export SP_TEST_PG_PASSWORD
	_pg_as mkdir -p "$PG_HOME/sock" || { PG_WHY="cannot create the socket dir"; return 1; }
	if ! _pg_as "$PG_BIN/initdb" -D "$PG_HOME/data" -U spadmin -N \
		--auth-local=trust --auth-host=scram-sha-256 -E UTF8 \
		--locale=C >"$_d/initdb.log" 2>&1; then
		PG_WHY="initdb failed: $(tail -n 3 "$_d/initdb.log" | tr '\n' ' ')"
		return 1
	fi
	for _try in 1 2 3; do
		PG_PORT=$(_pg_free_port) || { PG_WHY="cannot find a free port"; return 1; }
		# Durability off: these clusters are thrown away (2 shared cores).
		_pg_as sh -c "cat >>'$PG_HOME/data/postgresql.conf'" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_HOME/sock'
password_encryption = 'scram-sha-256'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 40
shared_buffers = 16MB
log_min_messages = warning
EOF
		if _pg_as "$PG_BIN/pg_ctl" -D "$PG_HOME/data" -l "$PG_LOG" -w -t 60 \
			start >"$_d/pg_ctl.log" 2>&1; then
			break
		fi
		PG_PORT=
		grep -q 'could not bind\|already in use' "$PG_LOG" 2>/dev/null || break
	done
	if [ -z "$PG_PORT" ]; then
		PG_WHY="the server did not start: $(tail -n 3 "$PG_LOG" 2>/dev/null | tr '\n' ' ')"
		return 1
	fi
	PG_PID=$(head -n 1 "$PG_HOME/data/postmaster.pid" 2>/dev/null)
	if ! pg_psql postgres "CREATE ROLE $PG_ROLE LOGIN PASSWORD '$SP_TEST_PG_PASSWORD'" \
		>"$_d/psql.log" 2>&1 ||
		! pg_psql postgres "CREATE DATABASE $PG_DB OWNER $PG_ROLE TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'" \
			>>"$_d/psql.log" 2>&1; then
		PG_WHY="cannot create the test role and database: $(tail -n 3 "$_d/psql.log" | tr '\n' ' ')"
		pg_stop
		return 1
	fi
	PG_URL=postgres://$PG_ROLE@127.0.0.1:$PG_PORT/$PG_DB
	# Readiness is a real password login over TCP, not an open port.
	if ! PGPASSWORD=$SP_TEST_PG_PASSWORD "$PG_BIN/psql" -X -q -At "$PG_URL" \
		-c 'SELECT 1' >"$_d/login.log" 2>&1; then
		PG_WHY="password login failed: $(tail -n 3 "$_d/login.log" | tr '\n' ' ')"
		pg_stop
		return 1
	fi
	return 0
}

pg_newdb() { # pg_newdb NAME: prints the URL of a fresh database
	pg_psql postgres "CREATE DATABASE $1 OWNER $PG_ROLE TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'" >/dev/null ||
		return 1
	echo "postgres://$PG_ROLE@127.0.0.1:$PG_PORT/$1"
}

pg_kill_immediate() {
	_pg_as "$PG_BIN/pg_ctl" -D "$PG_HOME/data" -m immediate -w stop >/dev/null 2>&1
	PG_PID=
}

pg_restart() {
	_pg_as "$PG_BIN/pg_ctl" -D "$PG_HOME/data" -l "$PG_LOG" -w -t 60 \
		start >/dev/null 2>&1 || return 1
	PG_PID=$(head -n 1 "$PG_HOME/data/postmaster.pid" 2>/dev/null)
}

pg_stop() {
	if [ -n "${PG_PID:-}" ]; then
		# SIGINT = fast shutdown: the postmaster ends its backends. The
		# server was started by pg_ctl (daemonized): poll, not wait.
		kill -INT "$PG_PID" 2>/dev/null
		_n=0
		while kill -0 "$PG_PID" 2>/dev/null && [ $_n -lt 300 ]; do
			sleep 0.1
			_n=$((_n + 1))
		done
		kill -0 "$PG_PID" 2>/dev/null && kill -KILL "$PG_PID" 2>/dev/null
		PG_PID=
	fi
	if [ -n "${PG_HOME:-}" ] && [ -d "$PG_HOME" ]; then
		rm -rf "$PG_HOME"
	fi
	PG_HOME=
	return 0
}
