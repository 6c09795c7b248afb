package livenessclient_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/pkg/livenessclient"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

func TestStartReturnsThePublishedToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before := time.Now()
	s, err := e.client.Start(ctx, livenessclient.Spec{DeviceCorrelationID: e.ns + "-device", AuthTokenTTL: 120 * time.Second})
	require.NoError(t, err)

	require.True(t, strings.HasPrefix(s.Name, livenessclient.DefaultNamePrefix), s.Name)
	require.Equal(t, e.ns, s.Namespace)
	cloud, ok := e.emu.Session(s.SessionID)
	require.True(t, ok, "the Face session id is the emulator's")
	require.Equal(t, cloud.AuthToken, s.AuthToken)
	require.Equal(t, e.ns+"-device", cloud.DeviceCorrelationID)
	require.WithinDuration(t, before.Add(120*time.Second), s.ExpiresAt, 5*time.Second)

	ls := &facev1.LivenessSession{}
	require.NoError(t, admin.Get(ctx, types.NamespacedName{Namespace: e.ns, Name: s.Name}, ls))
	require.Equal(t, livenessclient.CreatedByValue, ls.Labels[livenessclient.LabelCreatedBy])

	// Printing or logging a Session never shows the token.
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("started", "session", s)
	for _, out := range []string{s.String(), fmt.Sprint(s), logged.String()} {
		require.NotContains(t, out, s.AuthToken)
		require.Contains(t, out, s.SessionID)
	}
}

func TestDefaultSpecIsAPlainSessionWithClientSuppliedDevice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := e.client.Start(ctx, livenessclient.Spec{NamePrefix: "login-", Labels: map[string]string{"user": "alice"}})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(s.Name, "login-"))
	cloud, _ := e.emu.Session(s.SessionID)
	require.Equal(t, "liveness", cloud.Kind)
	require.True(t, cloud.DeviceCorrelationIDSetInClient)
	require.Equal(t, "Passive", cloud.LivenessOperationMode)
	ls := &facev1.LivenessSession{}
	require.NoError(t, admin.Get(ctx, types.NamespacedName{Namespace: e.ns, Name: s.Name}, ls))
	require.Equal(t, "alice", ls.Labels["user"])
}

func TestStartReportsAStalledSessionAndCleansUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, admin.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "taken"}}))

	_, err := e.client.Start(ctx, livenessclient.Spec{Name: "conflicted", TokenSecretName: "taken"})
	var stalled *livenessclient.StalledError
	require.ErrorAs(t, err, &stalled)
	require.Equal(t, facev1.ReasonSecretConflict, stalled.Reason)
	require.Equal(t, "conflicted", stalled.Name)
	require.Contains(t, stalled.Message, `Secret "taken" already exists`)
	require.Contains(t, err.Error(), "SecretConflict")
	require.Empty(t, e.emu.Sessions(), "no cloud session for a conflicting Secret")

	harness.Eventually(t, 10*time.Second, func() string {
		err := admin.Get(ctx, types.NamespacedName{Namespace: e.ns, Name: "conflicted"}, &facev1.LivenessSession{})
		if apierrors.IsNotFound(err) {
			return ""
		}
		return fmt.Sprintf("the stalled session is still there (%v)", err)
	})
}

// Without an operator the token never comes: Start gives up at the caller's deadline, says
// that nothing reported on the session, and deletes it.
func TestStartHonoursTheDeadline(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	// A first request discovers the API, so the timed Start spends its time waiting.
	_, err := e.client.Status(context.Background(), "nobody")
	require.ErrorIs(t, err, livenessclient.ErrNotFound)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	started := time.Now()
	_, err = e.client.Start(ctx, livenessclient.Spec{Name: "unattended"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(started), 8*time.Second)
	require.Contains(t, err.Error(), "the operator has not reported on it yet")
	err = admin.Get(context.Background(), types.NamespacedName{Namespace: e.ns, Name: "unattended"}, &facev1.LivenessSession{})
	require.True(t, apierrors.IsNotFound(err), "Start deletes what it could not finish: %v", err)
}

func TestUnknownSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := e.client.Session(ctx, "nobody")
	require.ErrorIs(t, err, livenessclient.ErrNotFound)
	require.ErrorIs(t, e.client.Completed(ctx, "nobody"), livenessclient.ErrNotFound)
	_, err = e.client.Status(ctx, "nobody")
	require.ErrorIs(t, err, livenessclient.ErrNotFound)
	_, err = e.client.Outcome(ctx, "nobody")
	require.ErrorIs(t, err, livenessclient.ErrNotFound)
	require.ErrorIs(t, e.client.Release(ctx, "nobody"), livenessclient.ErrNotFound)
	require.Contains(t, e.client.Release(ctx, "nobody").Error(), `"nobody"`)
}

func TestSpecErrorsAreCaughtBeforeAnythingIsCreated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx := context.Background()
	for name, v := range map[string]*livenessclient.Verification{
		"neither": {},
		"both":    {ReferenceImage: []byte{1}, Reference: &facev1.ReferenceImageSource{}},
		"empty":   {ReferenceImage: []byte{}},
	} {
		_, err := e.client.Start(ctx, livenessclient.Spec{Verification: v})
		require.Error(t, err, name)
	}
	_, err := e.client.Start(ctx, livenessclient.Spec{Verification: &livenessclient.Verification{
		ReferenceImage: make([]byte, livenessclient.MaxReferenceImageBytes+1),
	}})
	require.ErrorIs(t, err, livenessclient.ErrReferenceImageTooLarge)
	list := &facev1.LivenessSessionList{}
	require.NoError(t, admin.List(ctx, list))
	for _, ls := range list.Items {
		require.NotEqual(t, e.ns, ls.Namespace, "nothing was created")
	}
	require.False(t, errors.Is(err, livenessclient.ErrNotFound))
}
