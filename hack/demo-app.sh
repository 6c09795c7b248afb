#!/usr/bin/env bash
# make demo-app: the example app server's page, live, on this machine.
#   local control plane (kube-apiserver + etcd) -> Face emulator -> operator (bin/manager)
#   -> example app server (bin/example-app-server, with the development-only pass-through to
#   the emulator for the page's stand-in SDK). Prints the URL to open, runs until Ctrl-C.
# Needs bin/manager, bin/face-emulator, bin/example-app-server, bin/control-plane and
# KUBEBUILDER_ASSETS (make demo-app provides them all). APP_LISTEN picks the app server's
# address (default 127.0.0.1:8088).
set -euo pipefail

BIN=${BIN:-$(pwd)/bin}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
APP_LISTEN=${APP_LISTEN:-127.0.0.1:8088}
NAMESPACE=${NAMESPACE:-default}
STOPPING="stopping (app server, operator, emulator, control plane)"
# shellcheck source=hack/lib/local-stack.sh
source "$ROOT/hack/lib/local-stack.sh"
trap 'exit 0' INT TERM

start_control_plane
start_face_emulator
step "creating the operator's namespace (it keeps the token signing key there) and the app's"
kubectl create namespace liveness-operator-system
kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || kubectl create namespace "$NAMESPACE"
start_operator

step "starting the example app server (bin/example-app-server)"
"$BIN/example-app-server" --namespace "$NAMESPACE" --listen "$APP_LISTEN" \
  --face-emulator-endpoint "$FACE_ENDPOINT" >"$WORK/app-server.out" 2>"$WORK/app-server.log" &
pids+=($!)
wait_for_line "$WORK/app-server.out" "listening on" 20
APP_URL=$(grep -o 'http://[0-9.:]*' "$WORK/app-server.out" | head -1)

step "ready: open $APP_URL/ in a browser"
cat <<INFO
  Start liveness check runs the whole flow; tick "Verify against a reference image" and pick
  a file (config/samples/verify/reference-face.png) for a verify session, or choose the
  emulated decision spoofface. Watch the sessions from another shell:
    KUBECONFIG=$KUBECONFIG kubectl get liveness -n $NAMESPACE -w
    KUBECONFIG=$KUBECONFIG $BIN/kubectl-liveness -n $NAMESPACE describe NAME
  Press Ctrl-C to stop. App server log below.
INFO
tail -n +1 -f "$WORK/app-server.log" &
pids+=($!)
wait "${pids[0]}"
