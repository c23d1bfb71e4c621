#!/usr/bin/env bash
# bench/db.sh - qbackup --type db against `pg_dump | gzip -6`, and
# qrestore --db against `gunzip -c | psql`, in one run on the same
# database (a realistic, text-heavy one of about 170 MB of SQL).
# Prints the medians of alternating runs and the ratios.  Not a test.
#   QB_BENCH_ROWS   rows of the main table (default 300000)
#   QB_BENCH_RUNS   runs of each tool (default 3)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QB_BUILD:-$root/build}
rows=${QB_BENCH_ROWS:-300000}
runs=${QB_BENCH_RUNS:-3}
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
"$bin/psql" -X -q -v ON_ERROR_STOP=1 -d bench <<SQL
CREATE TABLE words (i int PRIMARY KEY, w text NOT NULL);
INSERT INTO words SELECT i, w FROM unnest(string_to_array(
 'le la les de des du un une et en à au aux pour par sur dans avec sans contrat bail tribunal audience '
 'jugement avocat client dossier pièce procédure appel cassation délai article code civil pénal commercial '
 'société gérant associé loyer résiliation préjudice dommages intérêts expertise témoin plainte décision '
 'ordonnance référé greffe huissier signification notification mise en demeure paiement facture honoraires '
 'convention clause litige médiation arbitrage sentence exécution saisie créance débiteur créancier garantie '
 'hypothèque succession héritier testament donation divorce garde pension alimentaire propriété servitude '
 'the of and to in for with court case law party claim evidence hearing judge counsel motion filed order', ' '))
 WITH ORDINALITY AS t(w, i);
CREATE TABLE clients (id int PRIMARY KEY, name text, email text, city text, created timestamptz, meta jsonb);
INSERT INTO clients SELECT i, 'Client ' || md5(i::text), 'c' || i || '@example.tn',
  (ARRAY['Tunis','Sfax','Sousse','Nabeul','Bizerte'])[1 + i % 5], now() - i * interval '37 minutes',
  jsonb_build_object('vip', i % 7 = 0, 'score', i % 100, 'tags', jsonb_build_array('a' || i % 13, 'b' || i % 17))
FROM generate_series(1, 20000) i;
CREATE TABLE documents (id bigint PRIMARY KEY, client_id int REFERENCES clients, title text, body text,
  amount numeric(12,2), pages int, filed date, updated timestamptz, meta jsonb);
INSERT INTO documents
SELECT i, 1 + i % 20000,
  (SELECT string_agg(w, ' ') FROM (SELECT w FROM words WHERE i > 0 ORDER BY random() LIMIT 6) s),
  (SELECT string_agg(w, ' ') FROM words, generate_series(1, 1 + (i % 4)) g WHERE random() < 0.55 AND i > 0),
  round((random() * 100000)::numeric, 2), 1 + (i % 80), date '2015-01-01' + (i % 4000),
  now() - (i % 100000) * interval '1 minute',
  jsonb_build_object('court', (ARRAY['Tunis','Sfax','Sousse'])[1 + i % 3], 'ref', 'RG-' || i, 'urgent', i % 11 = 0)
FROM generate_series(1, $rows) i;
CREATE INDEX documents_client ON documents (client_id);
CREATE INDEX documents_filed ON documents (filed);
ANALYZE;
SQL
sqlsize=$("$bin/pg_dump" -d bench | wc -c)
echo "database: $((sqlsize / 1048576)) MB of SQL" >&2

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
now() { date +%s.%N; }
calc() { awk "BEGIN { print $* }"; }
: > "$work/t_pgdump"; : > "$work/t_qbackup"; : > "$work/t_psql"; : > "$work/t_qrestore"
for r in $(seq 1 "$runs"); do
	t0=$(now); "$bin/pg_dump" -d bench | gzip -6 > "$work/ref.sql.gz"; t1=$(now)
	calc "$t1 - $t0" >> "$work/t_pgdump"
	rm -rf "$work/bk"
	t0=$(now); BACKUP_DIR=$work/bk DATABASE_URL="$url/bench" "$build/qbackup" --type db -q; t1=$(now)
	calc "$t1 - $t0" >> "$work/t_qbackup"
done
ours=$(ls "$work"/bk/db_*.sql.gz)
refsize=$(stat -c %s "$work/ref.sql.gz"); oursize=$(stat -c %s "$ours")
for r in $(seq 1 "$runs"); do
	"$bin/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS r_psql" -c "CREATE DATABASE r_psql TEMPLATE template0"
	t0=$(now); gunzip -c "$ours" | "$bin/psql" -X -q -v ON_ERROR_STOP=1 -d r_psql >/dev/null; t1=$(now)
	calc "$t1 - $t0" >> "$work/t_psql"
	"$bin/psql" -X -q -d postgres -c "DROP DATABASE IF EXISTS r_qr"
	t0=$(now); DATABASE_URL="$url/bench" "$build/qrestore" --db "$ours" --target-db r_qr --yes -q >/dev/null; t1=$(now)
	calc "$t1 - $t0" >> "$work/t_qrestore"
done
pd=$(median < "$work/t_pgdump"); qd=$(median < "$work/t_qbackup")
ps=$(median < "$work/t_psql"); qr=$(median < "$work/t_qrestore")
printf 'database dump, %d MB of SQL, median of %d alternating runs on %d cores\n' $((sqlsize / 1048576)) "$runs" "$(nproc)"
printf '  pg_dump | gzip -6      %7.2f s  %6.1f MB\n' "$pd" "$(calc "$refsize / 1048576")"
printf '  qbackup --type db      %7.2f s  %6.1f MB   %.2fx faster, output %.3f of the size\n' "$qd" \
	"$(calc "$oursize / 1048576")" "$(calc "$pd / $qd")" "$(calc "$oursize / $refsize")"
printf 'restore of the same file\n'
printf '  gunzip -c | psql       %7.2f s\n' "$ps"
printf '  qrestore --db          %7.2f s   %.2fx the speed of gunzip | psql\n' "$qr" "$(calc "$ps / $qr")"
