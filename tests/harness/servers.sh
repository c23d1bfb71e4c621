# shellcheck shell=bash
# servers.sh - start and stop the throwaway servers the tests and the sandbox use:
# a PostgreSQL cluster, moto's S3 server and an HTTP recorder, each on a free
# loopback port.  Source it, call qb_servers_start DIR, and qb_servers_stop at exit.
# Exports the QB_TEST_* variables that tests/testutil.h documents.
# QB_PG_FSYNC=on gives the cluster production durability (benchmarks); tests run without fsync.

qb_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

qb_pgbin() {
	local b
	b=$(pg_config --bindir 2>/dev/null)
	if [ ! -x "$b/initdb" ]; then
		b=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	fi
	echo "$b"
}

# Run a command as the owner of the cluster (postgres when we are root: initdb refuses root).
qb_as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

qb_start_pg() {
	local dir=$1 bin port pw
	bin=$(qb_pgbin)
	port=$(qb_free_port)
	pw="qbtest-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
	mkdir -p "$dir/pg"
	chmod 0755 "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir/pg"
	printf '%s\n' "$pw" > "$dir/pg.pw"
	chmod 0644 "$dir/pg.pw"
	qb_as_pg "$bin/initdb" -D "$dir/pg/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
		--pwfile="$dir/pg.pw" -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log"; return 1; }
	rm -f "$dir/pg.pw"
	qb_as_pg "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/server.log" -w -t 60 start \
		-o "-p $port -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=${QB_PG_FSYNC:-off} -c max_connections=50 -c shared_buffers=128MB" \
		>/dev/null || { cat "$dir/pg/server.log"; return 1; }
	export QB_TEST_PGBIN=$bin QB_TEST_PGHOST=127.0.0.1 QB_TEST_PGPORT=$port QB_TEST_PGUSER=postgres QB_TEST_PGPASSWORD=$pw
	QB_PG_DATA=$dir/pg/data
}

qb_start_s3() {
	local dir=$1 port i
	command -v moto_server >/dev/null || { echo "moto_server not found" >&2; return 1; }
	port=$(qb_free_port)
	moto_server -H 127.0.0.1 -p "$port" >"$dir/moto.log" 2>&1 &
	QB_MOTO_PID=$!
	for i in $(seq 1 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && break
		sleep 0.2
	done
	export QB_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
}

qb_start_recorder() {
	local dir=$1 port i
	port=$(qb_free_port)
	mkdir -p "$dir/recorder"
	python3 "$(dirname "${BASH_SOURCE[0]}")/recorder.py" 127.0.0.1 "$port" "$dir/recorder" >"$dir/recorder.log" 2>&1 &
	QB_RECORDER_PID=$!
	for i in $(seq 1 50); do
		curl -s -o /dev/null "http://127.0.0.1:$port/health" && break
		sleep 0.1
	done
	export QB_TEST_RECORDER_URL="http://127.0.0.1:$port" QB_TEST_RECORDER_DIR="$dir/recorder"
}

qb_servers_start() {
	QB_SERVERS_DIR=$1
	qb_start_pg "$1" && qb_start_s3 "$1" && qb_start_recorder "$1"
}

qb_servers_stop() {
	if [ -n "${QB_PG_DATA:-}" ]; then
		qb_as_pg "$QB_TEST_PGBIN/pg_ctl" -D "$QB_PG_DATA" -m immediate -w stop >/dev/null 2>&1
		QB_PG_DATA=
	fi
	[ -n "${QB_MOTO_PID:-}" ] && kill "$QB_MOTO_PID" 2>/dev/null && wait "$QB_MOTO_PID" 2>/dev/null
	[ -n "${QB_RECORDER_PID:-}" ] && kill "$QB_RECORDER_PID" 2>/dev/null && wait "$QB_RECORDER_PID" 2>/dev/null
	QB_MOTO_PID= QB_RECORDER_PID=
	return 0
}
