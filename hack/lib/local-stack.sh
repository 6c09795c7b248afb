# shellcheck shell=bash
# Sourced by hack/demo.sh and hack/demo-app.sh: the local stack they both run, as children of
# the calling shell: a control plane (kube-apiserver + etcd), the Face emulator and the
# operator (bin/manager), stopped and their folder removed when the shell exits.
# The caller sets BIN (the binaries) and STOPPING (what the exit message lists) first; this
# file sets WORK (logs and the kubeconfig), KUBECONFIG, FACE_KEY and, once the emulator runs,
# FACE_ENDPOINT.

WORK=$(mktemp -d -t "liveness-$(basename "$0" .sh).XXXXXX")
export KUBECONFIG=$WORK/kubeconfig
FACE_KEY=demo-face-key-$RANDOM$RANDOM
pids=()

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

stop_stack() {
  step "$STOPPING"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap stop_stack EXIT

# wait_for_line waits until a file has a line matching a pattern, or fails after $3 seconds.
wait_for_line() {
  local file=$1 pattern=$2 timeout=$3
  for _ in $(seq $((timeout * 10))); do
    grep -q "$pattern" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for '$pattern' in $file:" >&2; cat "$file" >&2; return 1
}

start_control_plane() {
  step "starting a local control plane (kube-apiserver + etcd)"
  "$BIN/control-plane" --kubeconfig-out "$KUBECONFIG" >"$WORK/control-plane.log" 2>&1 &
  pids+=($!)
  wait_for_line "$WORK/control-plane.log" "control plane ready" 120
  head -1 "$WORK/control-plane.log"
}

start_face_emulator() {
  step "starting the Face emulator"
  "$BIN/face-emulator" --listen 127.0.0.1:0 --api-key "$FACE_KEY" >"$WORK/emulator.log" 2>&1 &
  pids+=($!)
  wait_for_line "$WORK/emulator.log" "listening on" 20
  FACE_ENDPOINT=$(grep -o 'http://[0-9.:]*' "$WORK/emulator.log" | head -1)
  echo "Face emulator at $FACE_ENDPOINT"
}

# start_operator runs bin/manager with the emulator as its default Face account; its
# namespace (which keeps the token signing key) must exist.
start_operator() {
  step "starting the operator (bin/manager)"
  FACE_ENDPOINT=$FACE_ENDPOINT FACE_APIKEY=$FACE_KEY "$BIN/manager" \
    --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 >"$WORK/manager.log" 2>&1 &
  pids+=($!)
  wait_for_line "$WORK/manager.log" "Starting workers" 60
  echo "operator running (log: manager.log)"
}
