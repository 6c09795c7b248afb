#!/usr/bin/env bash
# Compares the repository's copy of the Face v1.2 examples (test/testdata/face-api-examples)
# with another copy, file by file, and exits non-zero on any difference. For maintainers
# refreshing the copy; tests never read anything outside the repository.
#
# Usage: hack/check-face-examples.sh <examples-dir>
set -euo pipefail
other=${1:?usage: hack/check-face-examples.sh <examples-dir>}
here="$(cd "$(dirname "$0")/.." && pwd)/test/testdata/face-api-examples"
status=0
while IFS= read -r rel; do
  if ! cmp -s "$other/$rel" "$here/$rel"; then
    echo "differs or missing here: $rel"
    status=1
  fi
done < <(cd "$other" && find . -name '*.json' | sort)
[ "$status" -eq 0 ] && echo "the repository's copy matches $other"
exit "$status"
