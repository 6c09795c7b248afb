#!/usr/bin/env bash
# Compares the repository's copy of the Face examples (test/testdata/face-api-examples for
# v1.2, and its v1.3-preview.1/ folder for v1.3-preview.1) with other copies, file by file,
# and exits non-zero on any difference. For maintainers refreshing the copy; tests never
# read anything outside the repository.
#
# Usage: hack/check-face-examples.sh <v1.2-examples-dir> [<v1.3-preview.1-examples-dir>]
# e.g.   hack/check-face-examples.sh ../shared/face-api/examples ../shared/face-api/v1.3-preview.1/examples
set -euo pipefail
usage="usage: hack/check-face-examples.sh <v1.2-examples-dir> [<v1.3-preview.1-examples-dir>]"
v12=${1:?$usage}
v13=${2:-}
root="$(cd "$(dirname "$0")/.." && pwd)/test/testdata/face-api-examples"
status=0

# compare OTHER HERE: every JSON file under OTHER must exist, byte for byte, under HERE.
compare() {
  local other=$1 here=$2 rel
  while IFS= read -r rel; do
    if ! cmp -s "$other/$rel" "$here/$rel"; then
      echo "differs or missing here: ${here#"$root"/}/$rel"
      status=1
    fi
  done < <(cd "$other" && find . -name '*.json' | sort)
}

compare "$v12" "$root"
[ -n "$v13" ] && compare "$v13" "$root/v1.3-preview.1"
if [ "$status" -eq 0 ]; then
  echo "the repository's copy matches $v12${v13:+ and $v13}"
fi
exit "$status"
