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
APP_LISTEN=${APP_LISTEN:-127.0.0.1:8088}
NAMESPACE=${NAMESPACE:-default}
WORK=$(mktemp -d -t liveness-demo-app.XXXXXX)
export KUBECONFIG=$WORK/kubeconfig
FACE_KEY=demo-face-key-$RANDOM$RANDOM
pids=()

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
cleanup() {
  step "stopping (app server, operator, emulator, control plane)"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# wait_for_line waits until a file has a line matching a pattern, or fails after $3 seconds.
wait_for_line() {
  local file=$1 pattern=$2 timeout=$3
  for _ in $(seq $((timeout * 10))); do
    grep -q "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$pattern' in $file:" >&2; cat "$file" >&2; return 1
}

step "starting a local control plane (kube-apiserver + etcd)"
"$BIN/control-plane" --kubeconfig-out "$KUBECONFIG" >"$WORK/control-plane.log" 2>&1 &
pids+=($!)
wait_for_line "$WORK/control-plane.log" "control plane ready" 120
head -1 "$WORK/control-plane.log"

step "starting the Face emulator"
"$BIN/face-emulator" --listen 127.0.0.1:0 --api-key "$FACE_KEY" >"$WORK/emulator.log" 2>&1 &
pids+=($!)
wait_for_line "$WORK/emulator.log" "listening on" 20
FACE_ENDPOINT=$(grep -o 'http://[0-9.:]*' "$WORK/emulator.log" | head -1)
echo "Face emulator at $FACE_ENDPOINT"

step "creating the operator's namespace (it keeps the token signing key there) and the app's"
kubectl create namespace liveness-operator-system
kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || kubectl create namespace "$NAMESPACE"

step "starting the operator (bin/manager)"
FACE_ENDPOINT=$FACE_ENDPOINT FACE_APIKEY=$FACE_KEY "$BIN/manager" \
  --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 >"$WORK/manager.log" 2>&1 &
pids+=($!)
wait_for_line "$WORK/manager.log" "Starting workers" 60
echo "operator running"

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
