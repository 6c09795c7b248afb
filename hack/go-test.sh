#!/usr/bin/env bash
# Runs go test with the given arguments, prints its output as it comes, and ends with a
# per-package time summary (slowest first) and a count of passed and failed packages, so a
# slow or failing package stands out at the end of a long run. Exits with go test's status.
#
# Usage: hack/go-test.sh <go test arguments...>
set -uo pipefail

log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
go test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
elapsed=$(( $(date +%s) - start ))

echo
echo "==> per-package time (slowest first; wall time of the whole run: ${elapsed} s)"
# "ok  	pkg	12.345s" and "FAIL	pkg	12.345s"; packages without tests print no time.
awk '($1 == "ok" || $1 == "FAIL") && $3 ~ /^[0-9.]+s$/ { t = $3; sub(/s$/, "", t); printf "%8.1f s  %-4s %s\n", t, $1, $2 }' "$log" | sort -rn
passed=$(awk '$1 == "ok" && NF >= 3' "$log" | wc -l)
failed=$(awk '$1 == "FAIL" && NF >= 2 && $2 != "" { print $2 }' "$log" | sort -u | wc -l)
echo "packages: ${passed} passed, ${failed} failed"
exit "$status"
