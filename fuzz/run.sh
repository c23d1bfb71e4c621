#!/usr/bin/env bash
# fuzz/run.sh [SECONDS] [NAME...] - run each libFuzzer target built by `make fuzz`
# (build-fuzz/fuzz/fuzz_NAME) for SECONDS (default 60), starting from its seed
# corpus fuzz/corpus/NAME (and, for the dump-script targets,
# tests/fixtures/sample.sql), copied so that the repository's seeds stay as they
# are.  A crash leaves its input in build-fuzz/fuzz/crash-NAME-*; the script
# then exits 1.  Not a test: CI runs the regression cases in tests/unit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
shift || true
out=$root/build-fuzz/fuzz
names=("$@")
if [ ${#names[@]} = 0 ]; then
	for f in "$root"/fuzz/fuzz_*.c; do
		n=$(basename "$f" .c); names+=("${n#fuzz_}")
	done
fi
work=$(mktemp -d /tmp/qbackup-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
for n in "${names[@]}"; do
	bin=$out/fuzz_$n
	[ -x "$bin" ] || { echo "fuzz/run.sh: $bin not built: run make fuzz" >&2; exit 2; }
	mkdir -p "$work/$n"
	[ -d "$root/fuzz/corpus/$n" ] && cp -r "$root/fuzz/corpus/$n/." "$work/$n/"
	# The dump-script targets also start from the sandbox's sample dump, as it is.
	case $n in sqlscan | sqlscan_script) cp "$root/tests/fixtures/sample.sql" "$work/$n/" ;; esac
	echo "== $n: $secs s" >&2
	if ! (cd "$work" && "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$out/crash-$n-" -print_final_stats=1 "$work/$n" 2>"$work/$n.log"); then
		tail -n 40 "$work/$n.log" >&2
		failed=1
	else
		grep -E "stat::number_of_executed_units|cov:" "$work/$n.log" | tail -n 2 >&2
	fi
done
exit $failed
