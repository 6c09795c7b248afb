#!/usr/bin/env bash
# make demo: the whole Face liveness flow on this machine, end to end.
#   local control plane (kube-apiserver + etcd) -> Face emulator -> operator (a local process)
#   -> a LivenessSession -> its token Secret -> the end user's attempt -> the decision in
#   status -> deletion -> the cloud session gone -> clean-up.
# Needs bin/manager, bin/face-emulator, bin/control-plane and KUBEBUILDER_ASSETS (make demo
# provides them all).
set -euo pipefail

BIN=${BIN:-$(pwd)/bin}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SAMPLE=$ROOT/config/samples/face_v1alpha1_livenesssession.yaml
NAME=login-check-42
STOPPING="cleaning up (operator, emulator, control plane)"
# shellcheck source=hack/lib/local-stack.sh
source "$ROOT/hack/lib/local-stack.sh"

start_control_plane
start_face_emulator
step "creating the operator's namespace (it keeps the token signing key there)"
kubectl create namespace liveness-operator-system
start_operator

step "applying the sample LivenessSession"
cat "$SAMPLE"
kubectl apply -f "$SAMPLE"
kubectl wait --for=condition=Ready "livenesssession/$NAME" --timeout=60s

step "the token Secret an app server reads (the token itself stays secret: only its length is shown)"
for key in sessionId expiresAt; do
  printf '  %-10s %s\n' "$key" "$(kubectl get secret "$NAME" -o "jsonpath={.data.$key}" | base64 -d)"
done
TOKEN=$(kubectl get secret "$NAME" -o 'jsonpath={.data.authToken}' | base64 -d)
printf '  %-10s <%d characters>\n' authToken "${#TOKEN}"
kubectl get livenesssessions

step "the end user's device performs the liveness check with the token (played by the emulator)"
"$BIN/face-emulator" attempt --endpoint "$FACE_ENDPOINT" --token "$TOKEN" --decision realface >/dev/null
echo "attempt recorded: realface"
echo "the app server's frontend reports completion; the app server asks for an immediate sync:"
kubectl annotate livenesssession "$NAME" "face.liveness-operator.io/sync-requested-at=$(date -u +%Y-%m-%dT%H:%M:%SZ)" --overwrite
kubectl wait --for=condition=Completed "livenesssession/$NAME" --timeout=60s

step "the decision in status"
kubectl get livenesssessions
echo "outcome: $(kubectl get livenesssession "$NAME" -o 'jsonpath={.status.outcome}'), decision: $(kubectl get livenesssession "$NAME" -o 'jsonpath={.status.livenessDecision}')"
SESSION_ID=$(kubectl get livenesssession "$NAME" -o 'jsonpath={.status.sessionId}')

step "deleting the LivenessSession: the finalizer deletes the cloud session first"
kubectl delete livenesssession "$NAME" --timeout=60s
curl -fsS "$FACE_ENDPOINT/emulator/sessions" | python3 -c '
import json, sys
sid = sys.argv[1]
sessions = json.load(sys.stdin)
sessions = sessions.get("sessions", sessions) if isinstance(sessions, dict) else sessions
s = next(s for s in sessions if s["sessionId"] == sid)
print("cloud session %s: deleted=%s" % (sid, str(s["deleted"]).lower()))
sys.exit(0 if s["deleted"] else 1)
' "$SESSION_ID"

step "liveness with verification: the reference image comes from a Secret (config/samples/verify)"
kubectl apply -k "$ROOT/config/samples/verify"
kubectl wait --for=condition=Ready livenesssession/kyc-check-7 --timeout=60s
echo "the reference as Face saw it: $(kubectl get livenesssession kyc-check-7 -o 'jsonpath={.status.verifyReferences[0]}')"
VTOKEN=$(kubectl get secret kyc-check-7 -o 'jsonpath={.data.authToken}' | base64 -d)
"$BIN/face-emulator" attempt --endpoint "$FACE_ENDPOINT" --token "$VTOKEN" --decision realface --match-confidence 0.91 >/dev/null
echo "attempt recorded: realface, match confidence 0.91 (threshold 0.8)"
kubectl annotate livenesssession kyc-check-7 "face.liveness-operator.io/sync-requested-at=$(date -u +%Y-%m-%dT%H:%M:%SZ)" --overwrite >/dev/null
kubectl wait --for=jsonpath='{.status.outcome}'=Verified livenesssession/kyc-check-7 --timeout=60s
kubectl get livenesssessions
echo "attempt: $(kubectl get livenesssession kyc-check-7 -o 'jsonpath={.status.attempts[0].livenessDecision}, matchConfidence {.status.attempts[0].matchConfidence}, isIdentical {.status.attempts[0].isIdentical}')"
kubectl wait --for=condition=SessionImageExported livenesssession/kyc-check-7 --timeout=60s >/dev/null
echo "session image exported to Secret kyc-check-7-capture: $(kubectl get secret kyc-check-7-capture -o 'jsonpath={.data.image}' | base64 -d | wc -c) bytes"
kubectl delete livenesssession kyc-check-7 --timeout=60s
kubectl get secret kyc-check-7-capture >/dev/null 2>&1 && { echo "the session image outlived its resource" >&2; exit 1; }
echo "the verify session and its captured image are gone"

if grep -qF "$TOKEN" "$WORK/manager.log" || grep -qF "$VTOKEN" "$WORK/manager.log" || grep -qF "$FACE_KEY" "$WORK/manager.log"; then
  echo "the operator's log contains a token or the key" >&2; exit 1
fi
step "demo complete: the operator's log never contained a token or the key"
