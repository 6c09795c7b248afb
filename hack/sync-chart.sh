#!/usr/bin/env bash
# Copies the generated and hand-kept manifests the Helm chart reads (its CRDs and every RBAC
# rule) into charts/liveness-operator/files, so that config/ stays their one source of truth.
# The copies are verbatim; the chart's templates wrap them. test/install's
# TestChartFilesMatchConfig fails when they drift: run `make helm-sync` after `make manifests`.
set -euo pipefail
cd "$(dirname "$0")/.."
files=charts/liveness-operator/files

# sync DEST_DIR SOURCE_GLOB...: DEST_DIR holds exactly the matching files, nothing stale.
sync() {
  local dest="$files/$1"; shift
  rm -rf "$dest"
  mkdir -p "$dest"
  for src in "$@"; do
    cp "$src" "$dest/"
  done
}

sync crds config/crd/bases/*.yaml
sync rbac config/rbac/*role.yaml
sync rbac-namespaced config/rbac-namespaced/*_role.yaml
sync app-server config/samples/app-server/role.yaml
