#!/usr/bin/env bash
# Runs `make test` RUNS times in a row (default 5) while two busy loops
# keep both CPUs loaded, as on a busy 2-core CI machine, and prints one
# line per run. Each run's output is in $OUT/run<N>.txt. Exits non-zero if
# any run failed. Run it from a clean worktree: it takes a while.
#
#   scripts/test-under-load.sh            # 5 runs
#   RUNS=2 scripts/test-under-load.sh
set -uo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
OUT="${OUT:-$(mktemp -d)}"
export GATEHOUSE_REQUIRE_REDIS="${GATEHOUSE_REQUIRE_REDIS:-1}"
sh -c 'while :; do :; done' & busy1=$!
sh -c 'while :; do :; done' & busy2=$!
trap 'kill $busy1 $busy2 2>/dev/null' EXIT
failed=0
for i in $(seq 1 "$RUNS"); do
	start=$(date +%s)
	make test >"$OUT/run$i.txt" 2>&1
	rc=$?
	echo "run $i: rc=$rc in $(($(date +%s) - start))s ($OUT/run$i.txt)"
	[ "$rc" -eq 0 ] || failed=1
done
exit "$failed"
