#!/usr/bin/env bash
# Runs every fuzz target for a bounded number of inputs (FUZZTIME, default
# 5000x each) from its committed seed corpus. Failing inputs are written to
# the package's testdata/fuzz/ by go test; commit them as regression seeds.
#
# The budget is a count, not a duration: with -fuzztime <duration> the fuzz
# coordinator can race its own deadline and fail a clean run with "context
# deadline exceeded" (golang/go#75804). A count ends when the inputs are done.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME="${FUZZTIME:-5000x}"
targets=(
	"FuzzParseToken ./internal/session"
	"FuzzSessionCodec ./internal/session"
	"FuzzTarget ./internal/redirect"
	"FuzzMatch ./internal/publicpath"
	"FuzzWebhook ./internal/github"
	"FuzzParseWebhook ./internal/nango"
	"FuzzVerifySignature ./internal/nango"
	"FuzzParse ./caddyfile"
)
for t in "${targets[@]}"; do
	set -- $t
	echo "fuzz: $1 ($2) for $FUZZTIME"
	# -fuzzminimizetime 0: minimizing every new corpus entry would dominate
	# a short run; a real failure is still reported and saved unminimized.
	go test -run '^$' -fuzz "^$1\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 0 "$2"
done
