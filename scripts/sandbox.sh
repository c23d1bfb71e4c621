#!/usr/bin/env bash
# sandbox.sh - the main job on a throwaway sandbox: a PostgreSQL cluster and
# an S3 server on loopback with sample data, and a code folder.  Backs up,
# lists, verifies, restores into scratch targets, shows the result, and
# stops the servers.  QB_SANDBOX_KEEP=1 keeps the folder for a look around.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QB_BUILD:-$root/build}
# shellcheck source=../tests/harness/servers.sh
. "$root/tests/harness/servers.sh"

work=$(mktemp -d /tmp/qbackup-sandbox.XXXXXX)
cleanup() {
	qb_servers_stop
	if [ "${QB_SANDBOX_KEEP:-0}" = 1 ]; then echo "sandbox kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "starting PostgreSQL and an S3 server on loopback"
qb_start_pg "$work"
qb_start_s3 "$work"
psql() { PGPASSWORD=$QB_TEST_PGPASSWORD "$QB_TEST_PGBIN/psql" -X -q -h 127.0.0.1 -p "$QB_TEST_PGPORT" -U postgres "$@"; }
psql -d postgres -c "CREATE DATABASE moncabinet"
psql -d moncabinet -v ON_ERROR_STOP=1 -f "$root/tests/fixtures/sample.sql"
echo "database moncabinet: $(psql -d moncabinet -At -c 'SELECT count(*) FROM dossiers') dossiers"

# Documents: a bucket of small PDFs-to-be (moto accepts any credentials; curl signs).
s3=$QB_TEST_S3_ENDPOINT
s3curl() { curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user sandbox:sandbox-secret "$@"; }
s3curl -X PUT "$s3/documents" >/dev/null
for i in 1 2 3 4 5 6 7 8; do
	head -c $((20000 + i * 5000)) /dev/urandom > "$work/piece.pdf"
	s3curl -H 'Content-Type: application/pdf' -T "$work/piece.pdf" "$s3/documents/client$((i % 3 + 1))/piece-$i.pdf" >/dev/null
done
s3curl -H 'Content-Type: application/pdf' -T "$work/piece.pdf" "$s3/documents/client1/scan%2001%20sign%C3%A9.pdf" >/dev/null
echo "bucket documents: 9 objects"

# The code: a Next.js tree, with what must not be archived.
code=$work/app
mkdir -p "$code/src/app" "$code/node_modules/react" "$code/.next/cache" "$code/.git" "$code/public"
echo 'export default function Page() { return "Qadhya" }' > "$code/src/app/page.tsx"
echo '{"name":"moncabinet"}' > "$code/package.json"
echo 'big' > "$code/node_modules/react/index.js"
echo 'cache' > "$code/.next/cache/x"
ln -s ../package.json "$code/public/package.json"

cat > "$work/qbackup.conf" <<CONF
BACKUP_DIR=$work/backups
DATABASE_URL=postgresql://postgres:$QB_TEST_PGPASSWORD@127.0.0.1:$QB_TEST_PGPORT/moncabinet
MINIO_ENDPOINT=$s3
MINIO_ACCESS_KEY=sandbox
MINIO_SECRET_KEY=sandbox-secret
MINIO_BUCKETS=documents
CODE_DIR=$code
CONF
chmod 600 "$work/qbackup.conf"
qb() { "$build/qbackup" --config "$work/qbackup.conf" "$@"; }
qr() { "$build/qrestore" --config "$work/qbackup.conf" "$@"; }

step "qbackup (the nightly run: database, documents, code)"
qb
step "a second run: unchanged documents are hard-linked, not downloaded"
sleep 1
qb --json
step "qbackup list"
qb list
step "qbackup list --json (what the admin page reads)"
qb list --json
step "qbackup verify --restore-test"
qb verify --restore-test

db=$(cd "$work/backups" && ls db_*.sql.gz | sort | tail -n 1)
snap=$(cd "$work/backups" && ls -d minio_* | sort | tail -n 1)
tgz=$(cd "$work/backups" && ls code_*.tar.gz | sort | tail -n 1)

step "qrestore --db $db --target-db moncabinet_restored --yes"
qr --db "$db" --target-db moncabinet_restored --yes
echo "restored: $(psql -d moncabinet_restored -At -c 'SELECT count(*) FROM clients') clients," \
	"$(psql -d moncabinet_restored -At -c 'SELECT count(*) FROM dossiers') dossiers," \
	"$(psql -d moncabinet_restored -At -c 'SELECT count(*) FROM documents') documents"

step "an object is lost; qrestore --minio $snap --yes puts it back"
s3curl -X DELETE "$s3/documents/client2/piece-1.pdf" >/dev/null
s3curl -o /dev/null -w 'client2/piece-1.pdf deleted: HTTP %{http_code}\n' "$s3/documents/client2/piece-1.pdf" || true
qr --minio "$snap" --yes
s3curl -o /dev/null -w 'client2/piece-1.pdf is back: HTTP %{http_code}\n' "$s3/documents/client2/piece-1.pdf"

step "qrestore --code $tgz --to $work/restored-code"
qr --code "$tgz" --to "$work/restored-code"
(cd "$work/restored-code" && find . | sort)

step "done: every step above ran against the sandbox's own servers"
