package controllers_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/controllers/session"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

var errCrashed = errors.New("process crashed")

// process models one run of the manager that dies at a named step: that step and everything
// after it fail, as if the process had been killed there. Steps: "claim" (the create-pending
// write), "face-create" (before the create is sent), "secret" (after Face answered, before the
// token Secret is written), "status" (before the session id reaches status).
type process struct {
	mu      sync.Mutex
	dieAt   string
	dead    bool
	claimed bool
}

func (p *process) step(name string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if name == p.dieAt {
		p.dead = true
	}
	if p.dead {
		return errCrashed
	}
	return nil
}

// dyingClient routes the reconciler's writes through the process's steps.
type dyingClient struct {
	client.Client
	p *process
}

func (c dyingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	step := "metadata"
	if !c.p.claimed {
		step = "claim"
	}
	if err := c.p.step(step); err != nil {
		return err
	}
	c.p.claimed = true
	return c.Client.Patch(ctx, obj, patch, opts...)
}

func (c dyingClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	if err := c.p.step("secret"); err != nil {
		return err
	}
	return c.Client.Create(ctx, obj, opts...)
}

func (c dyingClient) Status() client.SubResourceWriter {
	return dyingStatus{c.Client.Status(), c.p}
}

type dyingStatus struct {
	client.SubResourceWriter
	p *process
}

func (s dyingStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	if err := s.p.step("status"); err != nil {
		return err
	}
	return s.SubResourceWriter.Patch(ctx, obj, patch, opts...)
}

// dyingFace stops the process before a create is sent.
type dyingFace struct {
	face.Client
	p *process
}

func (f dyingFace) CreateLivenessSession(ctx context.Context, req face.CreateLivenessSessionRequest) (*face.LivenessSession, error) {
	if err := f.p.step("face-create"); err != nil {
		return nil, err
	}
	return f.Client.CreateLivenessSession(ctx, req)
}

// reconcilerFor builds a reconciler as one manager process would: fresh memory, direct
// (uncached) reads, the real Face client against the emulator.
func reconcilerFor(t *testing.T, emu *harness.Emulator, p *process) *session.Reconciler {
	direct, err := client.New(cpConfig, client.Options{Scheme: harness.Scheme()})
	require.NoError(t, err)
	var c client.Client = direct
	var fc face.Client = harness.FaceClient(t, emu.URL, harness.TestAPIKey)
	if p != nil {
		c = dyingClient{Client: direct, p: p}
		fc = dyingFace{Client: fc, p: p}
	}
	return &session.Reconciler{
		Client:      c,
		APIReader:   direct,
		Face:        accounts.StaticFaceClient{Client: fc},
		Events:      events.NewFakeRecorder(100),
		TokenSigner: harness.TestTokenSigner(t),
	}
}

// TestCrashSafeCreate kills the reconcile at each step of the create and restarts it. Every run
// converges to a Ready session with its token published, and the emulator holds exactly one
// cloud session per resource, plus one for each create the operator reported as having an
// unknown outcome. Only a death between Face answering and the token Secret being written
// (the one unavoidable window) loses a session, and that loss is reported, never silent.
func TestCrashSafeCreate(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	for _, tc := range []struct {
		dieAt           string
		wantSessions    int
		wantUnconfirmed int32
	}{
		{dieAt: "claim", wantSessions: 1},
		// Claimed but never sent: counted conservatively, since a restarted process cannot
		// tell this from a create that reached Face.
		{dieAt: "face-create", wantSessions: 1, wantUnconfirmed: 1},
		// The unavoidable window: Face made a session whose answer died with the process.
		{dieAt: "secret", wantSessions: 2, wantUnconfirmed: 1},
		{dieAt: "status", wantSessions: 1},
		{dieAt: "never", wantSessions: 1},
	} {
		t.Run(tc.dieAt, func(t *testing.T) {
			name := "crash-at-" + tc.dieAt
			require.NoError(t, k8sClient.Create(context.Background(), newSession(ns, name)))
			req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}

			_, _ = reconcilerFor(t, emu, &process{dieAt: tc.dieAt}).Reconcile(context.Background(), req)

			restarted := reconcilerFor(t, emu, nil)
			for i := 0; i < 5 && !isReadyTrue(get(t, ns, name)); i++ {
				_, err := restarted.Reconcile(context.Background(), req)
				require.NoError(t, err)
			}
			ls := get(t, ns, name)
			require.True(t, isReadyTrue(ls), "Ready after restart: %+v", ls.Status.Conditions)
			require.Equal(t, tc.wantUnconfirmed, ls.Status.UnconfirmedCreates)
			sessions := emu.SessionsFor(ns + "-" + name)
			require.Len(t, sessions, tc.wantSessions)
			require.Equal(t, int(1+ls.Status.UnconfirmedCreates) >= len(sessions), true,
				"every cloud session beyond the first is a reported one")

			secret := &corev1.Secret{}
			require.NoError(t, k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, secret))
			require.Equal(t, ls.Status.SessionID, string(secret.Data[facev1.SecretKeySessionID]))
			require.Equal(t, sessions[len(sessions)-1].SessionID, ls.Status.SessionID, "the published session is the newest")

			// Converged: more reconciles create nothing.
			for i := 0; i < 3; i++ {
				_, err := restarted.Reconcile(context.Background(), req)
				require.NoError(t, err)
			}
			require.Len(t, emu.SessionsFor(ns+"-"+name), tc.wantSessions)
		})
	}
}

// staleReader serves a fixed, old copy of the LivenessSession, as a lagging cache would.
type staleReader struct {
	client.Client
	stale *facev1.LivenessSession
}

func (s staleReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if ls, ok := obj.(*facev1.LivenessSession); ok && key.Name == s.stale.Name {
		s.stale.DeepCopyInto(ls)
		return nil
	}
	return s.Client.Get(ctx, key, obj, opts...)
}

// A reconcile that works from a stale copy (taken before another reconcile claimed and created
// the session) must not create a second session: its claim fails on the resource version.
func TestStaleCacheCannotCreateTwice(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	require.NoError(t, k8sClient.Create(context.Background(), newSession(ns, "stale")))
	stale := get(t, ns, "stale")
	req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: "stale"}}

	first := reconcilerFor(t, emu, nil)
	_, err := first.Reconcile(context.Background(), req)
	require.NoError(t, err)
	require.True(t, isReadyTrue(get(t, ns, "stale")))

	// The token Secret is gone from this lagging view too, so only the claim can stop it.
	lagging := reconcilerFor(t, emu, nil)
	lagging.Client = staleReader{Client: lagging.Client, stale: stale}
	lagging.APIReader = lagging.Client
	require.NoError(t, k8sClient.Delete(context.Background(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "stale"}}))
	res, err := lagging.Reconcile(context.Background(), req)
	require.NoError(t, err)
	require.Positive(t, res.RequeueAfter, "a conflict is retried from the newer version")
	require.Len(t, emu.SessionsFor(ns+"-stale"), 1, "the stale reconcile must not create")
}

// The report of an interrupted create survives further crashes, and is not repeated: a process
// that is about to report it dies (at its status write, or right after it at its own claim),
// and the count still ends at exactly one.
func TestInterruptedCreateReportSurvivesACrash(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	for _, secondDiesAt := range []string{"status", "claim"} {
		t.Run(secondDiesAt, func(t *testing.T) {
			name := "twice-" + secondDiesAt
			require.NoError(t, k8sClient.Create(context.Background(), newSession(ns, name)))
			req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}

			// 1: Face answers, the process dies before the token Secret: the unavoidable window.
			_, _ = reconcilerFor(t, emu, &process{dieAt: "secret"}).Reconcile(context.Background(), req)
			// 2: the next process finds the interrupted create and dies while dealing with it.
			_, _ = reconcilerFor(t, emu, &process{dieAt: secondDiesAt}).Reconcile(context.Background(), req)

			// 3: a healthy process converges.
			restarted := reconcilerFor(t, emu, nil)
			for i := 0; i < 5 && !isReadyTrue(get(t, ns, name)); i++ {
				_, err := restarted.Reconcile(context.Background(), req)
				require.NoError(t, err)
			}
			ls := get(t, ns, name)
			require.True(t, isReadyTrue(ls))
			require.Equal(t, int32(1), ls.Status.UnconfirmedCreates, "reported exactly once: never lost, never repeated")
			require.Len(t, emu.SessionsFor(ns+"-"+name), 2, "the lost session and its replacement")
		})
	}
}
