#!/usr/bin/env bash
# bench/s3.sh - `qbackup --type minio` against `aws s3 sync` and `rclone sync`:
# a full mirror of a bucket, then an unchanged re-run, each tool on the same
# moto server and bucket, in one run.  Prints the medians of alternating runs
# and the ratios (theirs / ours: above 1 means qbackup is faster).  Not a test.
# Each timed run starts after a sync; a "then sync" column shows, apart from the
# ratios, how long the files a tool left unwritten took to reach the disk.
# With a curl that signs (--aws-sigv4), also the server's ceilings: every object
# fetched into /dev/null with no listing and nothing kept, 8 connections at once
# (curl8) and one request at a time (curl1).
#   QB_BENCH_OBJECTS  objects in the bucket (default 1200, 20 KB to 400 KB each)
#   QB_BENCH_RUNS     runs of each tool and case (default 3)
#   QB_BENCH_QBACKUP  the command for qbackup (default $QB_BUILD/qbackup, QB_BUILD=build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${QB_BUILD:-$root/build}
qbackup=${QB_BENCH_QBACKUP:-$build/qbackup}
objects=${QB_BENCH_OBJECTS:-1200}
runs=${QB_BENCH_RUNS:-3}
[ -x "${qbackup%% *}" ] || { echo "bench/s3.sh: '$qbackup' not found: run make first" >&2; exit 1; }
command -v aws >/dev/null || { echo "bench/s3.sh: awscli is needed" >&2; exit 1; }
have_rclone=1
command -v rclone >/dev/null || { have_rclone=0; echo "bench/s3.sh: no rclone, skipping it" >&2; }
# shellcheck source=../tests/harness/servers.sh
. "$root/tests/harness/servers.sh"
work=$(mktemp -d /tmp/qbackup-s3bench.XXXXXX)
trap 'qb_servers_stop; rm -rf "$work"' EXIT
qb_start_s3 "$work"
ep=$QB_TEST_S3_ENDPOINT
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret-key AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
aws_s3() { aws --endpoint-url "$ep" s3 "$@"; }

echo "seeding $objects objects of 20 KB to 400 KB..." >&2
python3 - "$work/seed" "$objects" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(20240601)
for i in range(n):
    d = os.path.join(root, "dossiers", "%03d" % (i // 50))
    os.makedirs(d, exist_ok=True)
    size = rnd.randint(20 * 1024, 400 * 1024)
    with open(os.path.join(d, "piece-%05d.pdf" % i), "wb") as f:
        f.write(rnd.randbytes(size))
PY
seedbytes=$(du -sb "$work/seed" | cut -f1)
aws_s3 mb s3://bench >/dev/null
aws_s3 sync "$work/seed" s3://bench --only-show-errors
echo "bucket: $objects objects, $((seedbytes / 1048576)) MB" >&2

median() { sort -n | awk '{a[NR]=$1} END {if (NR) print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.3f\", $* }"; }
# A sync before each timed run, off the clock: aws and rclone leave their files for
# the kernel to write later, and that writing must not run on the next tool's clock
# (qbackup's own syncfs would also wait for it).  Each tool still pays for what it
# writes itself: qbackup syncs its snapshot before naming it, aws and rclone do not.
timed() {
	local out=$1; shift; local t0 t1
	sync
	t0=$(now); "$@"; t1=$(now); calc "$t1 - $t0" >> "$out"; echo >> "$out"
}

run_qbackup() {
	BACKUP_DIR=$work/q MINIO_ENDPOINT=$ep MINIO_ACCESS_KEY=$AWS_ACCESS_KEY_ID \
	MINIO_SECRET_KEY=$AWS_SECRET_ACCESS_KEY MINIO_BUCKETS=bench $qbackup --type minio -q
}
run_aws() { aws_s3 sync s3://bench "$work/a" --only-show-errors; }
# rclone alone must not see AWS_CA_BUNDLE; its remote is made of environment variables.
run_rclone() {
	env -u AWS_CA_BUNDLE RCLONE_CONFIG_X_TYPE=s3 RCLONE_CONFIG_X_PROVIDER=Other \
		RCLONE_CONFIG_X_ENDPOINT="$ep" RCLONE_CONFIG_X_ACCESS_KEY_ID="$AWS_ACCESS_KEY_ID" \
		RCLONE_CONFIG_X_SECRET_ACCESS_KEY="$AWS_SECRET_ACCESS_KEY" RCLONE_CONFIG_X_REGION=us-east-1 \
		rclone sync X:bench "$work/r" --transfers 8 --checkers 8 -q
}

# The server's ceilings: curl fetching every object into /dev/null, with no listing, no
# file and no checksum.  curl8 keeps 8 connections at once, as qbackup does by default
# (--parallel-immediate: without it, curl waits to reuse a connection that moto then
# closes, and runs one request at a time).  curl1 runs one request at a time: moto's
# threads share one interpreter lock, and it serves one request at a time with less
# of its own overhead than eight.
have_curl=0
if curl --help all 2>/dev/null | grep -q -- --aws-sigv4; then
	have_curl=1
	{
		echo 'aws-sigv4 = "aws:amz:us-east-1:s3"'
		echo "user = \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\""
		(cd "$work/seed" && find . -type f | sed 's|^\./||' | sort) | while read -r k; do
			echo "url = \"$ep/bench/$k\""
			echo 'output = "/dev/null"'
		done
	} > "$work/curl.cfg"
fi
run_curl8() {
	curl --no-progress-meter --fail --parallel --parallel-immediate --parallel-max 8 \
		-K "$work/curl.cfg"
}
run_curl1() { curl --no-progress-meter --fail -K "$work/curl.cfg"; }

tools="qbackup aws"
[ "$have_rclone" = 1 ] && tools="$tools rclone"
[ "$have_curl" = 1 ] && tools="$tools curl8 curl1"
for t in $tools; do : > "$work/full_$t"; : > "$work/again_$t"; : > "$work/sync_$t"; done
for r in $(seq 1 "$runs"); do
	# Alternate the order so that no tool always runs on a warmer server.
	order=$tools
	[ $((r % 2)) = 0 ] && order=$(echo "$tools" | tr ' ' '\n' | tac | tr '\n' ' ')
	for t in $order; do
		rm -rf "$work/q" "$work/a" "$work/r"
		timed "$work/full_$t" "run_$t"
		case $t in curl*) continue ;; esac   # nothing to re-run: it keeps nothing
		# What making its copy durable would add (qbackup's own run includes it).
		t0=$(now); sync; t1=$(now); calc "$t1 - $t0" >> "$work/sync_$t"; echo >> "$work/sync_$t"
		sleep 1   # a new snapshot stamp (one a second) for qbackup's re-run
		timed "$work/again_$t" "run_$t"
	done
	echo "run $r of $runs done" >&2
done
# Check once that qbackup's snapshot is whole.
rm -rf "$work/q"
run_qbackup
snapdir=$(ls -d "$work"/q/minio_*)
got=$(find "$snapdir/bench" -type f | wc -l)
[ "$got" = "$objects" ] || { echo "bench/s3.sh: qbackup mirrored $got objects, not $objects" >&2; exit 1; }
diff -r "$work/seed" "$snapdir/bench" >/dev/null || { echo "bench/s3.sh: qbackup's copy differs" >&2; exit 1; }

# "then sync": a sync right after the full mirror, timed apart from it: the
# writing a tool left to the kernel.  It is not in the ratios below.
printf '\n%-8s %12s %12s %12s\n' tool "full (s)" "then sync" "re-run (s)"
for t in $tools; do
	again=$({ grep . "$work/again_$t" || true; } | median)
	synced=$({ grep . "$work/sync_$t" || true; } | median)
	printf '%-8s %12s %12s %12s\n' "$t" "$(grep . "$work/full_$t" | median)" "${synced:--}" "${again:--}"
done
echo
for t in $tools; do
	printf '%-8s full mirror, each run (s): %s\n' "$t" "$(grep . "$work/full_$t" | tr '\n' ' ')"
done
qf=$(grep . "$work/full_qbackup" | median); qa=$(grep . "$work/again_qbackup" | median)
echo
for t in $tools; do
	case $t in qbackup | curl*) continue ;; esac
	tf=$(grep . "$work/full_$t" | median); ta=$(grep . "$work/again_$t" | median)
	printf 'full mirror:    %s / qbackup = %sx\n' "$t" "$(calc "$tf / $qf")"
	printf 'unchanged run:  %s / qbackup = %sx\n' "$t" "$(calc "$ta / $qa")"
done
if [ "$have_curl" = 1 ]; then
	af=$(grep . "$work/full_aws" | median)
	for t in curl8 curl1; do
		cf=$(grep . "$work/full_$t" | median)
		printf 'ceiling:        %s to /dev/null / qbackup = %sx (aws / %s = %sx)\n' \
			"$t" "$(calc "$cf / $qf")" "$t" "$(calc "$af / $cf")"
	done
fi
echo "($objects objects, $((seedbytes / 1048576)) MB, medians of $runs runs, moto on loopback)"
