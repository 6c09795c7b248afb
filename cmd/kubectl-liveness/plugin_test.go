package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/pkg/livenessclient"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// create turns its flags into the spec, and prints only the name.
func TestCreateSetsTheSpecAndPrintsTheName(t *testing.T) {
	t.Parallel()
	e := newPluginEnv(t, false)
	name := strings.TrimSpace(e.ok(t, "create", "--name-prefix", "cli-", "--operation-mode", "PassiveActive",
		"--device-correlation-id", "dev-1", "--ttl", "2m", "--enable-session-image", "--model-version", "2024-11-15",
		"--token-secret-name", "cli-token", "--account", "team-a", "--deletion-policy", "Orphan",
		"--reference-secret", "faces/alice.png", "--confidence-threshold", "0.8", "--return-verify-image-hash", "-l", "user=alice"))
	require.True(t, strings.HasPrefix(name, "cli-"), name)
	require.NotContains(t, name, "\n")
	ls := e.get(t, name)
	s := ls.Spec
	require.Equal(t, facev1.OperationModePassiveActive, s.OperationMode)
	require.Equal(t, "dev-1", s.DeviceCorrelationID)
	require.False(t, s.DeviceCorrelationIDSetInClient)
	require.Equal(t, int32(120), s.AuthTokenTimeToLiveInSeconds)
	require.True(t, s.EnableSessionImage)
	require.Equal(t, "2024-11-15", s.LivenessModelVersion)
	require.Equal(t, "cli-token", s.TokenSecretName)
	require.Equal(t, &facev1.AccountReference{Kind: facev1.AccountKindFaceAccount, Name: "team-a"}, s.AccountRef)
	require.Equal(t, facev1.DeletionPolicyOrphan, s.DeletionPolicy)
	require.Equal(t, &facev1.ImageKeyRef{Name: "faces", Key: "alice.png"}, s.Verification.ReferenceImage.SecretKeyRef)
	require.Equal(t, "0.8", s.Verification.ConfidenceThreshold)
	require.True(t, s.Verification.ReturnVerifyImageHash)
	require.Equal(t, "alice", ls.Labels["user"])

	// An explicit name, a ConfigMap reference, the defaults.
	require.Equal(t, "plain\n", e.ok(t, "create", "plain"))
	plain := e.get(t, "plain").Spec
	require.True(t, plain.DeviceCorrelationIDSetInClient)
	require.Nil(t, plain.Verification)
	e.ok(t, "create", "cm", "--reference-configmap", "faces/bob.png")
	require.Equal(t, "bob.png", e.get(t, "cm").Spec.Verification.ReferenceImage.ConfigMapKeyRef.Key)
}

func TestCreateUploadsAReferenceImageFile(t *testing.T) {
	t.Parallel()
	e := newPluginEnv(t, false)
	img := filepath.Join(harness.RepoRoot(), "config", "samples", "verify", "reference-face.png")
	e.ok(t, "create", "kyc", "--reference-image", img)
	ref := &corev1.Secret{}
	require.NoError(t, admin.Get(context.Background(), types.NamespacedName{Namespace: e.ns, Name: "kyc-reference"}, ref))
	want, err := os.ReadFile(img)
	require.NoError(t, err)
	require.Equal(t, want, ref.Data[livenessclient.ReferenceImageKey])
	require.Equal(t, e.get(t, "kyc").UID, ref.OwnerReferences[0].UID)
}

func TestCreateRejectsBadFlags(t *testing.T) {
	t.Parallel()
	e := newPluginEnv(t, false)
	for args, want := range map[string]string{
		"create --account a --cluster-account b":                  "not both",
		"create --reference-secret x":                             "NAME/KEY",
		"create --reference-secret a/b --reference-configmap c/d": "give one of",
		"create --confidence-threshold 0.5":                       "need a reference image",
		"create --operation-mode Sideways":                        "operationMode",
		"create --reference-image /nonexistent/face.png":          "no such file",
		"create a b":        "accepts at most 1 arg",
		"wait x --for=blue": "--for must be",
		"wait x":            `"for" not set`,
	} {
		r := e.kubectlLiveness(t, strings.Fields(args)...)
		require.Error(t, r.err, args)
		require.Contains(t, r.stderr, want, args)
	}
}

// wait, token, sync and describe against the operator and the emulator.
func TestWaitTokenSyncDescribe(t *testing.T) {
	t.Parallel()
	e := newPluginEnv(t, true)
	e.ok(t, "create", "login-42", "--device-correlation-id", e.ns+"-device")
	require.Contains(t, e.ok(t, "wait", "login-42", "--for=ready"), "livenesssession/login-42 is Ready")

	r := e.kubectlLiveness(t, "token", "login-42")
	require.NoError(t, r.err)
	require.Empty(t, r.stderr)
	cloud := e.emu.SessionsFor(e.ns + "-device")
	require.Len(t, cloud, 1)
	require.Equal(t, cloud[0].AuthToken+"\n", r.stdout, "the token and nothing else, on stdout")

	pending := e.ok(t, "describe", "login-42")
	require.Contains(t, pending, "Outcome:")
	require.Contains(t, pending, "Pending")
	require.Contains(t, pending, "none yet")

	_, err := e.emu.Attempt(cloud[0].AuthToken, emulator.AttemptRequest{LivenessDecision: "realface"})
	require.NoError(t, err)
	require.Equal(t, "livenesssession/login-42 sync requested\n", e.ok(t, "sync", "login-42"))
	require.NotEmpty(t, e.get(t, "login-42").Annotations[facev1.AnnotationSyncRequestedAt])
	require.Contains(t, e.ok(t, "wait", "login-42", "--for=outcome=Live,Verified"), "completed: Live")
	require.Contains(t, e.ok(t, "wait", "login-42", "--for=completed"), "completed: Live")

	out := e.ok(t, "describe", "login-42")
	for _, want := range []string{
		"Name:", "login-42", "Kind:", "liveness", "Account:", "the manager's default account",
		"Outcome:", "Live (realface)", "Face session:", cloud[0].SessionID, "Token Secret:", "token expires",
		"Completed:", "Conditions:", "TYPE", "Ready", "True", "SessionReady", "Completed", "Live",
		"Attempts:", "ID", "STATUS", "DECISION", "1", "Succeeded", "realface",
	} {
		require.Contains(t, out, want)
	}
	require.NotContains(t, out, cloud[0].AuthToken, "describe never shows the token")

	wrong := e.kubectlLiveness(t, "wait", "login-42", "--for=outcome=Spoof")
	require.Error(t, wrong.err)
	require.Contains(t, wrong.stderr, "completed with outcome Live, not Spoof")
}

func TestWaitFailsOnTimeoutStallAndUnknownSession(t *testing.T) {
	t.Parallel()
	e := newPluginEnv(t, true)
	e.ok(t, "create", "pending")
	e.ok(t, "wait", "pending", "--for=ready")
	start := time.Now()
	r := e.kubectlLiveness(t, "wait", "pending", "--for=completed", "--timeout=300ms")
	require.Error(t, r.err)
	require.Contains(t, r.stderr, "timed out after 300ms waiting for livenesssession/pending to be completed")
	require.Less(t, time.Since(start), 5*time.Second)

	require.NoError(t, admin.Create(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "taken"}}))
	e.ok(t, "create", "conflict", "--token-secret-name", "taken")
	for _, cmd := range [][]string{{"wait", "conflict", "--for=ready"}, {"token", "conflict"}, {"wait", "conflict", "--for=completed"}} {
		r = e.kubectlLiveness(t, cmd...)
		require.Error(t, r.err, cmd)
		require.Contains(t, r.stderr, "SecretConflict", cmd)
		require.Empty(t, r.stdout, cmd)
	}

	for _, cmd := range [][]string{{"wait", "nobody", "--for=ready"}, {"token", "nobody"}, {"describe", "nobody"}, {"sync", "nobody"}} {
		r = e.kubectlLiveness(t, cmd...)
		require.Error(t, r.err, cmd)
		require.Contains(t, r.stderr, `liveness session not found: "nobody"`, cmd)
	}
}

// The built binary works as a kubectl plugin: kubectl finds kubectl-liveness on PATH.
func TestKubectlRunsThePlugin(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatal("kubectl is needed for this test")
	}
	e := newPluginEnv(t, false)
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "kubectl-liveness"), ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	kubectl := func(args ...string) (string, error) {
		cmd := exec.Command("kubectl", args...)
		cmd.Env = append(os.Environ(), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out2, err := kubectl("liveness", "--kubeconfig", e.kubeconfig, "-n", e.ns, "create", "via-kubectl")
	require.NoError(t, err, out2)
	require.Equal(t, "via-kubectl\n", out2)
	out2, err = kubectl("liveness", "--kubeconfig", e.kubeconfig, "-n", e.ns, "describe", "via-kubectl")
	require.NoError(t, err, out2)
	require.Contains(t, out2, "none yet (is the operator running?)")
	out2, err = kubectl("liveness", "--help")
	require.NoError(t, err, out2)
	for _, sub := range []string{"create", "wait", "describe", "sync", "token", "--kubeconfig", "--namespace"} {
		require.Contains(t, out2, sub)
	}
}
