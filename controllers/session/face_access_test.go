package session

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/tokenmac"
)

// countingResolver counts account resolutions and answers that the account is not ready, so a
// reconcile that resolves it stops there without any call.
type countingResolver struct{ calls int }

func (c *countingResolver) ClientFor(context.Context, *facev1.LivenessSession) (face.Client, error) {
	c.calls++
	return nil, &accounts.AccountUnavailableError{Reason: facev1.ReasonAccountNotReady, Message: "not ready", RetryAfter: time.Minute}
}

// TestReconcileResolvesTheAccountOnlyToCallFace drives one reconcile per case and checks whether
// it resolved the session's account: only a step about to call Face does (a create, a due poll,
// a session image still to export), so a finished session whose account lost its key does not
// keep requeueing behind it.
func TestReconcileResolvesTheAccountOnlyToCallFace(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	created := metav1.NewTime(now.Add(-time.Minute))
	expires := metav1.NewTime(now.Add(9 * time.Minute))
	running := facev1.LivenessSessionStatus{SessionID: "s", Outcome: facev1.OutcomePending, TokenSecretName: "ls",
		CreatedAt: &created, AuthTokenExpiresAt: &expires}
	final := running
	final.Outcome = facev1.OutcomeLive
	final.Attempts = []facev1.LivenessAttempt{{AttemptID: 1, Status: "Succeeded", LivenessDecision: "realface", SessionImageID: "img-1"}}
	exported := final
	exported.SessionImageSecretName = "img"
	for _, tc := range []struct {
		name        string
		spec        facev1.LivenessSessionSpec
		status      facev1.LivenessSessionStatus
		syncRequest string
		want        int
	}{
		{"not created yet", facev1.LivenessSessionSpec{}, facev1.LivenessSessionStatus{}, "", 1},
		{"waiting for the attempt, poll due", facev1.LivenessSessionSpec{}, running, "now", 1},
		{"waiting for the attempt, no poll due", facev1.LivenessSessionSpec{}, running, "", 0},
		{"final", facev1.LivenessSessionSpec{}, final, "", 0},
		{"final, image still to export", facev1.LivenessSessionSpec{SessionImageSecretName: "img"}, final, "", 1},
		{"final, image exported", facev1.LivenessSessionSpec{SessionImageSecretName: "img"}, exported, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ls := &facev1.LivenessSession{
				ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "ls", UID: "uid-1", Finalizers: []string{facev1.FinalizerName}},
				Spec:       tc.spec,
				Status:     tc.status,
			}
			if tc.syncRequest != "" {
				ls.Annotations = map[string]string{facev1.AnnotationSyncRequestedAt: tc.syncRequest}
			}
			if ls.Status.SessionID != "" {
				setReady(ls)
			}
			r0 := &Reconciler{TokenSigner: testSigner(t)}
			objs := []runtime.Object{ls}
			if ls.Status.SessionID != "" {
				objs = append(objs, r0.tokenSecretFor(ls, &cloudSession{ID: "s", AuthToken: "t"}, expires.Time))
			}
			if tc.status.SessionImageSecretName != "" {
				objs = append(objs, sessionImageSecretFor(ls, "img-1", []byte("image")))
			}
			c := fake.NewClientBuilder().WithScheme(testScheme(t)).WithRuntimeObjects(objs...).
				WithStatusSubresource(&facev1.LivenessSession{}).Build()
			resolver := &countingResolver{}
			r := &Reconciler{Client: c, APIReader: c, Face: resolver, Events: events.NewFakeRecorder(10),
				Clock: clocktesting.NewFakePassiveClock(now), TokenSigner: r0.TokenSigner}
			_, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "ls"}})
			require.NoError(t, err)
			require.Equal(t, tc.want, resolver.calls, "account resolutions")
		})
	}
}

func testScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(s))
	require.NoError(t, facev1.AddToScheme(s))
	return s
}

func testSigner(t *testing.T) *tokenmac.Signer {
	t.Helper()
	s, err := tokenmac.New([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	return s
}
