#!/usr/bin/env bash
# bench/db.sh - qbackup --type db against `pg_dump | gzip -6`, and
# qrestore --db against `gunzip -c | psql`, in one run on the same
# database (a realistic, text-heavy one of about 170 MB of SQL).
# Prints the medians of alternating runs and the ratios.  Not a test.
#   QB_BENCH_ROWS   rows of the main table (default 300000)
#   QB_BENCH_RUNS   runs of each tool (default 5)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QB_BUILD:-$root/build}
rows=${QB_BENCH_ROWS:-300000}
runs=${QB_BENCH_RUNS:-5}
# shellcheck source=../tests/harness/servers.sh
. "$root/tests/harness/servers.sh"
work=$(mktemp -d /tmp/qbackup-bench.XXXXXX)
trap 'qb_servers_stop; rm -rf "$work"' EXIT
# A production-like server: fsync on, as the restore's commits wait for it.
QB_PG_FSYNC=on qb_start_pg "$work" >/dev/null
export PGPASSWORD=$QB_TEST_PGPASSWORD PGHOST=127.0.0.1 PGPORT=$QB_TEST_PGPORT PGUSER=postgres
bin=$QB_TEST_PGBIN
url="postgresql://postgres:$QB_TEST_PGPASSWORD@127.0.0.1:$QB_TEST_PGPORT"

echo "building the benchmark database ($rows documents)..." >&2
"$bin/psql" -X -q -d postgres -c "CREATE DATABASE bench"
"$bin/psql" -X -q -v ON_ERROR_STOP=1 -v rows="$rows" -d bench -f "$root/bench/db_data.sql"
sqlsize=$("$bin/pg_dump" -d bench | wc -c)
echo "database: $((sqlsize / 1048576)) MB of SQL" >&2

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }
: > "$work/t_pgdump"; : > "$work/t_qbackup"; : > "$work/t_psql"; : > "$work/t_qrestore"
# A checkpoint before each timed run: the WAL of one restore must not be
# flushed on the next tool's clock.
checkpoint() { "$bin/psql" -X -q -d postgres -c CHECKPOINT; }
for r in $(seq 1 "$runs"); do
	checkpoint
	t0=$(now); "$bin/pg_dump" -d bench | gzip -6 > "$work/ref.sql.gz"; t1=$(now)
	calc "$t1 - $t0" >> "$work/t_pgdump"
	rm -rf "$work/bk"
	checkpoint
	t0=$(now); BACKUP_DIR=$work/bk DATABASE_URL="$url/bench" "$build/qbackup" --type db -q; t1=$(now)
	calc "$t1 - $t0" >> "$work/t_qbackup"
done
ours=$(ls "$work"/bk/db_*.sql.gz)
refsize=$(stat -c %s "$work/ref.sql.gz"); oursize=$(stat -c %s "$ours")
for r in $(seq 1 "$runs"); do
	"$bin/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS r_psql"
	checkpoint
	# Both start from nothing: psql needs its empty database made, qrestore makes its own.
	t0=$(now); "$bin/psql" -X -q -d postgres -c "CREATE DATABASE r_psql TEMPLATE template0"
	gunzip -c "$ours" | "$bin/psql" -X -q -v ON_ERROR_STOP=1 -d r_psql >/dev/null; t1=$(now)
	calc "$t1 - $t0" >> "$work/t_psql"
	"$bin/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS r_qr"
	checkpoint
	t0=$(now); DATABASE_URL="$url/bench" "$build/qrestore" --db "$ours" --target-db r_qr --yes -q >/dev/null; t1=$(now)
	calc "$t1 - $t0" >> "$work/t_qrestore"
	echo "restore run $r: psql $(tail -n 1 "$work/t_psql") s, qrestore $(tail -n 1 "$work/t_qrestore") s" >&2
done
pd=$(median < "$work/t_pgdump"); qd=$(median < "$work/t_qbackup")
ps=$(median < "$work/t_psql"); qr=$(median < "$work/t_qrestore")
printf 'database dump, %d MB of SQL, median of %d alternating runs on %d cores\n' $((sqlsize / 1048576)) "$runs" "$(nproc)"
printf '  pg_dump | gzip -6      %7.2f s  %6.1f MB\n' "$pd" "$(calc "$refsize / 1048576")"
printf '  qbackup --type db      %7.2f s  %6.1f MB   %.2fx faster, output %.3f of the size\n' "$qd" \
	"$(calc "$oursize / 1048576")" "$(calc "$pd / $qd")" "$(calc "$oursize / $refsize")"
printf 'restore of the same file into a new database\n'
printf '  createdb; gunzip -c | psql %7.2f s\n' "$ps"
printf '  qrestore --db          %7.2f s   %.2fx the speed of gunzip | psql\n' "$qr" "$(calc "$ps / $qr")"
