package controllers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// TestNewSessionGoesBeforeDuePolls runs one worker against a Face that takes 300 ms a call.
// Twelve sessions made Ready leave a backlog of result polls due (each session's first poll is
// a second after its creation, and the creates took 3.6 s); a session created then must get
// its token after at most the poll in flight, not after the backlog: scheduled polls come back
// to the work queue below watch events (controllers/session/queue_priority.go).
func TestNewSessionGoesBeforeDuePolls(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{Faults: emulator.Faults{Latency: 300 * time.Millisecond}})
	harness.StartManager(t, cpConfig, ns, harness.ManagerOptions{Endpoint: emu.URL, APIKey: harness.TestAPIKey, Workers: 1})
	ctx := context.Background()

	const backlog = 12
	for i := range backlog {
		require.NoError(t, k8sClient.Create(ctx, newSession(ns, fmt.Sprintf("early-%02d", i))))
	}
	for i := range backlog {
		waitConditionWithin(t, ns, fmt.Sprintf("early-%02d", i), facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady, time.Minute)
	}
	polls := func() int64 { return emu.Stats().ByOperation[emulator.OpGetLivenessSessionResult].Total }

	before := polls()
	require.NoError(t, k8sClient.Create(ctx, newSession(ns, "probe")))
	harness.Eventually(t, time.Minute, func() string {
		if err := k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "probe"}, &corev1.Secret{}); err != nil {
			return "probe's token Secret: " + err.Error()
		}
		return ""
	})
	served := polls() - before
	require.LessOrEqual(t, served, int64(2), "result polls served between the new session's create and its token Secret (only the one in flight may finish)")

	// The backlog was real: the polls that waited are served once the worker is free.
	harness.Eventually(t, 30*time.Second, func() string {
		if got := polls() - before; got < backlog/2 {
			return fmt.Sprintf("%d polls since the probe, want the waiting ones (>= %d)", got, backlog/2)
		}
		return ""
	})
}
