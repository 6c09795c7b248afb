package livenessclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/pkg/livenessclient"
)

// The whole app server flow: start, the end user's attempt, completion, outcome, release.
func TestFlowLive(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := e.client.Start(ctx, livenessclient.Spec{})
	require.NoError(t, err)

	r, err := e.client.Status(ctx, s.Name)
	require.NoError(t, err)
	require.Equal(t, facev1.OutcomePending, r.Outcome)
	require.False(t, r.Final())
	require.Nil(t, r.Latest())

	_, err = e.emu.Attempt(s.AuthToken, emulator.AttemptRequest{LivenessDecision: "realface"})
	require.NoError(t, err)
	require.NoError(t, e.client.Completed(ctx, s.Name))
	r, err = e.client.Outcome(ctx, s.Name)
	require.NoError(t, err)
	require.Equal(t, facev1.OutcomeLive, r.Outcome)
	require.Equal(t, "realface", r.LivenessDecision)
	require.True(t, r.Final())
	require.False(t, r.CompletedAt.IsZero())
	require.Len(t, r.Attempts, 1)
	require.Equal(t, "Succeeded", r.Latest().Status)

	require.NoError(t, e.client.Release(ctx, s.Name))
	err = admin.Get(ctx, types.NamespacedName{Namespace: e.ns, Name: s.Name}, &facev1.LivenessSession{})
	require.True(t, apierrors.IsNotFound(err), "Release returns once the session is gone: %v", err)
	cloud, _ := e.emu.Session(s.SessionID)
	require.True(t, cloud.Deleted, "the cloud session is deleted, its token revoked")
}

func TestOutcomeSpoofAndFailedAttempt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for attempt, want := range map[emulator.AttemptRequest]facev1.Outcome{
		{LivenessDecision: "spoofface"}:     facev1.OutcomeSpoof,
		{ErrorCode: "FaceWithMaskDetected"}: facev1.OutcomeFailed,
		{LivenessDecision: "uncertain"}:     facev1.OutcomeUncertain,
	} {
		s, err := e.client.Start(ctx, livenessclient.Spec{})
		require.NoError(t, err)
		_, err = e.emu.Attempt(s.AuthToken, attempt)
		require.NoError(t, err)
		require.NoError(t, e.client.Completed(ctx, s.Name))
		r, err := e.client.Outcome(ctx, s.Name)
		require.NoError(t, err)
		require.Equal(t, want, r.Outcome)
		if attempt.ErrorCode != "" {
			require.Equal(t, attempt.ErrorCode, r.Latest().ErrorCode)
			require.Equal(t, "Mask detected on face image.", r.Latest().ErrorMessage)
		}
	}
}

// Outcome is a watch: it returns as soon as the outcome is final, and gives up at the
// caller's deadline while the end user has not finished.
func TestOutcomeWaitsForTheOperator(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := e.client.Start(ctx, livenessclient.Spec{})
	require.NoError(t, err)

	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	started := time.Now()
	_, err = e.client.Outcome(short, s.Name)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(started), 3*time.Second)

	done := make(chan *livenessclient.Result, 1)
	go func() {
		r, err := e.client.Outcome(ctx, s.Name)
		if err != nil {
			t.Errorf("outcome: %v", err)
		}
		done <- r
	}()
	time.Sleep(200 * time.Millisecond) // the watch is open before the attempt
	_, err = e.emu.Attempt(s.AuthToken, emulator.AttemptRequest{LivenessDecision: "realface"})
	require.NoError(t, err)
	require.NoError(t, e.client.Completed(ctx, s.Name))
	select {
	case r := <-done:
		require.Equal(t, facev1.OutcomeLive, r.Outcome)
	case <-ctx.Done():
		t.Fatal("Outcome did not return")
	}
}

// A session deleted while Outcome waits ends the wait with ErrNotFound rather than the
// caller's deadline.
func TestOutcomeSeesTheSessionGo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := e.client.Start(ctx, livenessclient.Spec{})
	require.NoError(t, err)
	errs := make(chan error, 1)
	go func() {
		_, err := e.client.Outcome(ctx, s.Name)
		errs <- err
	}()
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, e.client.Release(ctx, s.Name))
	require.ErrorIs(t, <-errs, livenessclient.ErrNotFound)
}

// Session finds the token of a session created elsewhere (kubectl liveness token uses it),
// and Wait follows any condition.
func TestCreateThenSessionAndWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name, err := e.client.Create(ctx, livenessclient.Spec{Name: "by-name", OperationMode: facev1.OperationModePassiveActive})
	require.NoError(t, err)
	require.Equal(t, "by-name", name)
	s, err := e.client.Session(ctx, name)
	require.NoError(t, err)
	require.NotEmpty(t, s.AuthToken)
	ls, err := e.client.Wait(ctx, name, func(ls *facev1.LivenessSession) (bool, error) {
		return ls.Status.SessionID != "" && ls.Status.TokenSecretName != "", nil
	})
	require.NoError(t, err)
	require.Equal(t, s.SessionID, ls.Status.SessionID)
	_, err = e.client.Create(ctx, livenessclient.Spec{Name: "by-name"})
	require.True(t, apierrors.IsAlreadyExists(err), "an explicit name is not replaced: %v", err)
}
