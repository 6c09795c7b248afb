package controllers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// Under a 429 storm (quota far below the demand) every session still becomes Ready, each with
// exactly one cloud session.
func TestThrottlingStormCreatesNoSecondSession(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := startOperator(t, ns, emulator.Config{Quota: emulator.Quota{RequestsPerSecond: 4, Burst: 2}})
	const n = 12
	for i := 0; i < n; i++ {
		require.NoError(t, k8sClient.Create(context.Background(), newSession(ns, fmt.Sprintf("s%d", i))))
	}
	for i := 0; i < n; i++ {
		waitConditionWithin(t, ns, fmt.Sprintf("s%d", i), facev1.ConditionReady, metav1.ConditionTrue, "", 60*time.Second)
	}
	require.Positive(t, emu.Stats().Throttled, "the storm must actually have throttled")
	for i := 0; i < n; i++ {
		require.Len(t, emu.SessionsFor(fmt.Sprintf("%s-s%d", ns, i)), 1, "session s%d", i)
	}
}

// 500s and 503s on a third of all calls are survived: every session becomes Ready, with one
// cloud session each, and the outcome still arrives.
func TestServerErrorsAreRetried(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := startOperator(t, ns, emulator.Config{Faults: emulator.Faults{ErrorRate500: 0.15, ErrorRate503: 0.2}, Seed: 7})
	const n = 8
	for i := 0; i < n; i++ {
		require.NoError(t, k8sClient.Create(context.Background(), newSession(ns, fmt.Sprintf("s%d", i))))
	}
	for i := 0; i < n; i++ {
		waitConditionWithin(t, ns, fmt.Sprintf("s%d", i), facev1.ConditionReady, metav1.ConditionTrue, "", 60*time.Second)
	}
	stats := emu.Stats()
	require.Positive(t, stats.ByStatus["500"]+stats.ByStatus["503"], "faults must actually have been injected")
	for i := 0; i < n; i++ {
		require.Len(t, emu.SessionsFor(fmt.Sprintf("%s-s%d", ns, i)), 1, "session s%d", i)
	}

	token := string(tokenSecret(t, ns, "s0").Data[facev1.SecretKeyAuthToken])
	_, err := emu.Attempt(token, emulator.AttemptRequest{LivenessDecision: "realface"})
	require.NoError(t, err)
	requestSync(t, ns, "s0")
	waitConditionWithin(t, ns, "s0", facev1.ConditionCompleted, metav1.ConditionTrue, string(facev1.OutcomeLive), 60*time.Second)
}
