package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/utils/ptr"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// v13Client is the real client speaking v1.3-preview.1 to the emulator over loopback.
func v13Client(t *testing.T, endpoint string) *face.HTTPClient {
	t.Helper()
	c, err := face.NewClient(face.Options{
		Endpoint: endpoint, APIKey: harness.TestAPIKey, APIVersion: face.APIVersionV13Preview1,
		Timeout: 5 * time.Second, MaxRetries: 2, RetryDelay: 50 * time.Millisecond, MaxRetryDelay: 2 * time.Second,
	})
	require.NoError(t, err)
	return c
}

func TestV13MultiAttemptSession(t *testing.T) {
	emu := harness.StartEmulator(t, emulator.Config{})
	c := v13Client(t, emu.URL)
	ctx := context.Background()

	created, err := c.CreateLivenessSession(ctx, face.CreateLivenessSessionRequest{
		LivenessOperationMode: "PassiveActive", DeviceCorrelationID: "device-1", UserCorrelationID: "user-1",
		NumberOfClientAttemptsAllowed: ptr.To[int32](3), ExpectedClientIPAddress: "203.0.113.0/24",
		EnableSessionImage: ptr.To(true),
	})
	require.NoError(t, err)
	require.Equal(t, ptr.To(true), created.IsAbuseMonitoringEnabled)
	require.Equal(t, "203.0.113.0/24", created.ExpectedClientIPAddress)
	opts := face.VerdictOptions{AttemptsAllowed: 3, ExpectedClientIPAddress: "203.0.113.0/24"}

	for i, code := range []string{"FaceNotDetected", "FaceWithMaskDetected"} {
		_, err = emu.Attempt(created.AuthToken, emulator.AttemptRequest{ErrorCode: code, ClientIP: "203.0.113.9"})
		require.NoError(t, err)
		got, err := c.GetLivenessSessionResult(ctx, created.SessionID)
		require.NoError(t, err)
		v := got.Verdict(opts)
		require.False(t, v.Final, "after %d failed attempts of 3", i+1)
		require.Equal(t, int32(2-i), v.AttemptsRemaining)
	}
	_, err = emu.Attempt(created.AuthToken, emulator.AttemptRequest{LivenessDecision: "realface", ClientIP: "203.0.113.10", FaceID: "alice"})
	require.NoError(t, err)
	got, err := c.GetLivenessSessionResult(ctx, created.SessionID)
	require.NoError(t, err)
	require.Len(t, got.Results.Attempts, 3)
	latest := got.LatestAttempt()
	require.Equal(t, []face.ClientInformation{{IP: "203.0.113.10"}}, latest.ClientInformation)
	require.NotNil(t, latest.AbuseMonitoringResult)
	require.False(t, latest.AbuseMonitoringResult.IsAbuseDetected)
	v := got.Verdict(opts)
	require.True(t, v.Final)
	require.True(t, v.Passed)
	require.Zero(t, v.AttemptsRemaining)

	_, err = emu.Attempt(created.AuthToken, emulator.AttemptRequest{LivenessDecision: "realface"})
	var ee *emulator.Error
	require.ErrorAs(t, err, &ee)
	require.Equal(t, "AttemptLimitReached", ee.Code)
	require.NoError(t, c.DeleteLivenessSession(ctx, created.SessionID))
}

func TestV13ClientIPOutsideNeverPasses(t *testing.T) {
	emu := harness.StartEmulator(t, emulator.Config{})
	c := v13Client(t, emu.URL)
	ctx := context.Background()
	created, err := c.CreateLivenessSession(ctx, face.CreateLivenessSessionRequest{
		LivenessOperationMode: "Passive", DeviceCorrelationID: "d", UserCorrelationID: "u", ExpectedClientIPAddress: "10.0.0.0/8",
	})
	require.NoError(t, err)
	_, err = emu.Attempt(created.AuthToken, emulator.AttemptRequest{LivenessDecision: "realface", ClientIP: "198.51.100.7"})
	require.NoError(t, err)
	got, err := c.GetLivenessSessionResult(ctx, created.SessionID)
	require.NoError(t, err)
	require.True(t, got.LatestAttempt().Result.LivenessDecision.Is(face.LivenessDecisionRealFace), "the emulator, like the service, still gives a verdict")
	v := got.Verdict(face.VerdictOptions{ExpectedClientIPAddress: "10.0.0.0/8"})
	require.True(t, v.Final)
	require.False(t, v.Passed)
	require.Contains(t, v.ClientIPMismatch, "198.51.100.7")
}

func TestV13AbuseAndSettings(t *testing.T) {
	emu := harness.StartEmulator(t, emulator.Config{})
	c := v13Client(t, emu.URL)
	ctx := context.Background()

	st, err := c.GetSettings(ctx)
	require.NoError(t, err)
	require.True(t, st.LivenessAbuseMonitoring.Enabled, "on by default")

	var ids []string
	for _, user := range []string{"user-a", "user-b"} {
		s, err := c.CreateLivenessWithVerifySession(ctx, face.CreateLivenessWithVerifySessionRequest{
			CreateLivenessSessionRequest: face.CreateLivenessSessionRequest{
				LivenessOperationMode: "Passive", DeviceCorrelationID: "d", UserCorrelationID: user,
				NumberOfClientAttemptsAllowed: ptr.To[int32](2),
			},
			VerifyImage: referencePNG(t, 64, 64),
		})
		require.NoError(t, err)
		info, _ := emu.Session(s.SessionID)
		require.Equal(t, user, info.UserCorrelationID, "the multipart create carries userCorrelationId")
		require.Equal(t, 2, info.NumberOfClientAttemptsAllowed)
		_, err = emu.Attempt(s.AuthToken, emulator.AttemptRequest{LivenessDecision: "realface", FaceImage: "the same face"})
		require.NoError(t, err)
		ids = append(ids, s.SessionID)
	}
	second, err := c.GetLivenessWithVerifySessionResult(ctx, ids[1])
	require.NoError(t, err)
	am := second.LatestAttempt().AbuseMonitoringResult
	require.NotNil(t, am)
	require.True(t, am.IsAbuseDetected)
	require.Equal(t, ids[0], am.OtherFlaggedSessions[0].SessionID)
	v := second.Verdict(face.VerdictOptions{AttemptsAllowed: 2})
	require.True(t, v.AbuseDetected)
	require.False(t, v.Passed)

	// Off through the Face API, drift behind its back, restored.
	st, err = c.PatchSettings(ctx, face.SettingsUpdate{LivenessAbuseMonitoring: &face.LivenessAbuseMonitoringSettingUpdate{Enabled: ptr.To(false)}})
	require.NoError(t, err)
	require.False(t, st.LivenessAbuseMonitoring.Enabled)
	require.False(t, emu.AbuseMonitoring("key#0"))
	emu.SetAbuseMonitoring("key#0", true)
	st, err = c.GetSettings(ctx)
	require.NoError(t, err)
	require.True(t, st.LivenessAbuseMonitoring.Enabled, "the drift is visible")

	tok, err := c.GetClientAssetsAccessToken(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, tok.AccessToken)
	require.True(t, tok.Expiry.After(time.Now()))
}

func TestV12ClientUnchangedAgainstEmulator(t *testing.T) {
	emu := harness.StartEmulator(t, emulator.Config{})
	c := harness.FaceClient(t, emu.URL, harness.TestAPIKey)
	_, err := c.CreateLivenessSession(context.Background(), face.CreateLivenessSessionRequest{
		LivenessOperationMode: "Passive", DeviceCorrelationID: "d", NumberOfClientAttemptsAllowed: ptr.To[int32](2),
	})
	require.ErrorIs(t, err, face.ErrUnsupportedByAPIVersion)
	require.True(t, face.IsInvalidRequest(err))
	require.Empty(t, emu.Sessions(), "no Face call made")
	require.Zero(t, emu.Stats().TotalRequests)
}
