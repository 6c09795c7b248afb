#!/usr/bin/env bash
# Builds kube-apiserver and etcd from the Go module proxy into a version-keyed folder
# under bin/, for controller-runtime's envtest. Both binaries are built only when
# missing; the first build takes several minutes on 2 cores, later runs are instant.
#
# Usage: hack/build-control-plane.sh <kubernetes-version> <etcd-version> <output-root>
# Prints the folder to use as KUBEBUILDER_ASSETS on its last line of stdout.
set -euo pipefail

K8S_VERSION=${1:?kubernetes version, e.g. v1.37.2}
ETCD_VERSION=${2:?etcd version, e.g. v3.6.16}
OUT_ROOT=${3:?output root, e.g. bin/k8s}

ASSETS="$(mkdir -p "$OUT_ROOT" && cd "$OUT_ROOT" && pwd)/${K8S_VERSION}-etcd-${ETCD_VERSION}-$(go env GOOS)-$(go env GOARCH)"
mkdir -p "$ASSETS"

log() { echo "[control-plane] $*" >&2; }

# staging_version maps v1.37.2 to v0.37.2: the staging modules' tags.
staging_version() { echo "v0.${1#v1.}"; }

# wrapper_module writes a throw-away module that requires $module@$version and turns every
# "=> ./staging/..." replace of that version's go.mod into a replace onto the published module.
wrapper_module() {
  local dir=$1 module=$2 version=$3 staging=$4
  mkdir -p "$dir"
  (
    cd "$dir"
    [ -f go.mod ] || go mod init wrapper.local/build >/dev/null 2>&1
    go mod edit -require="$module@$version"
    local gomod
    gomod=$(go mod download -json "$module@$version" | sed -n 's/.*"GoMod": "\(.*\)",/\1/p')
    # Lines like "	k8s.io/api => ./staging/src/k8s.io/api" or "go.etcd.io/etcd/api/v3 => ../api";
    # "=> ./FORBIDDEN_DEPENDENCY" guards are not dependencies and are skipped.
    { grep -E '^[[:space:]]*(replace[[:space:]]+)?[^ ]+ => \.\.?/' "$gomod" || true; } | grep -v FORBIDDEN_DEPENDENCY |
      sed -E 's/^[[:space:]]*(replace[[:space:]]+)?//' | while read -r path _ _; do
      if [ -n "$staging" ]; then
        go mod edit -replace="$path=$path@$staging"
      else
        go mod edit -replace="$path=$path@$version"
      fi
    done
  )
}

build_kube_apiserver() {
  local bin="$ASSETS/kube-apiserver"
  if [ -x "$bin" ]; then log "kube-apiserver $K8S_VERSION present"; return; fi
  log "building kube-apiserver $K8S_VERSION from the Go module proxy (first time: about 10 minutes on 2 cores)"
  local work; work=$(mktemp -d)
  wrapper_module "$work" k8s.io/kubernetes "$K8S_VERSION" "$(staging_version "$K8S_VERSION")"
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  (
    cd "$work"
    log "resolving kube-apiserver dependencies (log: $work/go-get.log)"
    go get -tool k8s.io/kubernetes/cmd/kube-apiserver@"$K8S_VERSION" >"$work/go-get.log" 2>&1 || { cat "$work/go-get.log" >&2; exit 1; }
    log "compiling kube-apiserver"
    go build -trimpath -o "$bin.tmp" \
      -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
      k8s.io/kubernetes/cmd/kube-apiserver
  )
  mv "$bin.tmp" "$bin"
  rm -rf "$work"
  log "kube-apiserver ready"
}

build_etcd() {
  local bin="$ASSETS/etcd"
  if [ -x "$bin" ]; then log "etcd $ETCD_VERSION present"; return; fi
  log "building etcd $ETCD_VERSION from the Go module proxy (first time: about 1 minute)"
  local work; work=$(mktemp -d)
  wrapper_module "$work" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" ""
  (
    cd "$work"
    log "resolving etcd dependencies (log: $work/go-get.log)"
    go get -tool go.etcd.io/etcd/server/v3@"$ETCD_VERSION" >"$work/go-get.log" 2>&1 || { cat "$work/go-get.log" >&2; exit 1; }
    log "compiling etcd"
    go build -trimpath -ldflags "-s -w" -o "$bin.tmp" go.etcd.io/etcd/server/v3
  )
  mv "$bin.tmp" "$bin"
  rm -rf "$work"
  log "etcd ready"
}

build_etcd
build_kube_apiserver
echo "$ASSETS"
