// Package conformance runs the real Face client against the real emulator over loopback: every
// liveness operation and every error class, the way the operator uses them.
package conformance

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/utils/ptr"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// referencePNG is a noisy (so it stays above Face's 1 KB minimum) PNG of the given size.
func referencePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

func TestLivenessSessionOperations(t *testing.T) {
	emu := harness.StartEmulator(t, emulator.Config{})
	c := harness.FaceClient(t, emu.URL, harness.TestAPIKey)
	ctx := context.Background()

	created, err := c.CreateLivenessSession(ctx, face.CreateLivenessSessionRequest{
		LivenessOperationMode:        "PassiveActive",
		DeviceCorrelationID:          "device-1",
		EnableSessionImage:           ptr.To(true),
		LivenessModelVersion:         "2024-11-15",
		AuthTokenTimeToLiveInSeconds: ptr.To[int32](120),
	})
	require.NoError(t, err)
	require.NotEmpty(t, created.SessionID)
	require.NotEmpty(t, created.AuthToken)
	require.True(t, created.Status.Is(face.OperationState("NotStarted")))
	require.Empty(t, created.Results.Attempts)

	_, err = emu.Attempt(created.AuthToken, emulator.AttemptRequest{LivenessDecision: "realface"})
	require.NoError(t, err)
	got, err := c.GetLivenessSessionResult(ctx, created.SessionID)
	require.NoError(t, err)
	latest := got.LatestAttempt()
	require.NotNil(t, latest)
	require.True(t, latest.AttemptStatus.IsTerminal())
	require.Equal(t, face.LivenessDecision("realface"), latest.Result.LivenessDecision.Normalized())
	require.Len(t, latest.Result.Digest, 64)
	require.NotEmpty(t, latest.Result.SessionImageID)

	img, err := c.GetSessionImage(ctx, latest.Result.SessionImageID)
	require.NoError(t, err)
	_, format, err := image.DecodeConfig(bytes.NewReader(img))
	require.NoError(t, err, "the session image is a real image")
	require.NotEmpty(t, format)

	faces, err := c.DetectFromSessionImageID(ctx, latest.Result.SessionImageID, face.DetectOptions{
		DetectionModel: "detection_03", RecognitionModel: "recognition_04", ReturnFaceID: ptr.To(false),
	})
	require.NoError(t, err)
	require.Len(t, faces, 1)
	require.Positive(t, faces[0].FaceRectangle.Width)

	require.NoError(t, c.DeleteLivenessSession(ctx, created.SessionID))
	err = c.DeleteLivenessSession(ctx, created.SessionID)
	require.True(t, face.IsNotFound(err), "a second delete is a 404 the operator treats as done: %v", err)
	_, err = c.GetLivenessSessionResult(ctx, created.SessionID)
	require.True(t, face.IsNotFound(err))
	_, err = emu.Attempt(created.AuthToken, emulator.AttemptRequest{LivenessDecision: "realface"})
	require.Error(t, err, "delete revokes the token")
}

func TestLivenessWithVerifySessionOperations(t *testing.T) {
	emu := harness.StartEmulator(t, emulator.Config{})
	c := harness.FaceClient(t, emu.URL, harness.TestAPIKey)
	ctx := context.Background()
	ref := referencePNG(t, 400, 400)

	created, err := c.CreateLivenessWithVerifySession(ctx, face.CreateLivenessWithVerifySessionRequest{
		CreateLivenessSessionRequest: face.CreateLivenessSessionRequest{
			LivenessOperationMode:          "Passive",
			DeviceCorrelationIDSetInClient: ptr.To(true),
		},
		ReturnVerifyImageHash:     ptr.To(true),
		VerifyConfidenceThreshold: ptr.To(0.8),
		VerifyImage:               ref,
	})
	require.NoError(t, err)
	require.Len(t, created.Results.VerifyReferences, 1)
	require.Positive(t, created.Results.VerifyReferences[0].FaceRectangle.Width)
	require.NotEmpty(t, created.Results.VerifyReferences[0].QualityForRecognition)

	_, err = emu.Attempt(created.AuthToken, emulator.AttemptRequest{LivenessDecision: "realface", MatchConfidence: ptr.To(0.75)})
	require.NoError(t, err)
	got, err := c.GetLivenessWithVerifySessionResult(ctx, created.SessionID)
	require.NoError(t, err)
	latest := got.LatestAttempt()
	require.NotNil(t, latest.Result.VerifyResult)
	require.InDelta(t, 0.75, latest.Result.VerifyResult.MatchConfidence, 1e-9)
	require.False(t, latest.Result.VerifyResult.IsIdentical, "0.75 is below the session's 0.8 threshold")
	require.Len(t, latest.Result.VerifyImageHash, 64)

	require.NoError(t, c.DeleteLivenessWithVerifySession(ctx, created.SessionID))
	require.True(t, face.IsNotFound(c.DeleteLivenessWithVerifySession(ctx, created.SessionID)))
}

func TestErrorClassesAgainstTheEmulator(t *testing.T) {
	ctx := context.Background()
	valid := face.CreateLivenessSessionRequest{LivenessOperationMode: "Passive", DeviceCorrelationID: "d"}

	t.Run("invalid request is terminal, with Face's code", func(t *testing.T) {
		emu := harness.StartEmulator(t, emulator.Config{})
		c := harness.FaceClient(t, emu.URL, harness.TestAPIKey)
		bad := valid
		bad.AuthTokenTimeToLiveInSeconds = ptr.To[int32](30)
		_, err := c.CreateLivenessSession(ctx, bad)
		require.True(t, face.IsInvalidRequest(err), "%v", err)
		require.False(t, face.IsRetryable(err))
		var re *face.ResponseError
		require.True(t, errors.As(err, &re))
		require.NotEmpty(t, re.Code)
		require.Contains(t, re.Message, "authTokenTimeToLiveInSeconds")
		require.NotEmpty(t, re.RequestID, "the emulator sends apim-request-id")
	})
	t.Run("a bad verify image is terminal", func(t *testing.T) {
		emu := harness.StartEmulator(t, emulator.Config{})
		c := harness.FaceClient(t, emu.URL, harness.TestAPIKey)
		_, err := c.CreateLivenessWithVerifySession(ctx, face.CreateLivenessWithVerifySessionRequest{
			CreateLivenessSessionRequest: valid, VerifyImage: bytes.Repeat([]byte("not an image "), 200),
		})
		require.True(t, face.IsInvalidRequest(err), "%v", err)
		require.Zero(t, emu.Stats().ByOperation[emulator.OpCreateLivenessWithVerifySession].ByStatus["200"])
	})
	t.Run("wrong key is a credentials error", func(t *testing.T) {
		emu := harness.StartEmulator(t, emulator.Config{})
		_, err := harness.FaceClient(t, emu.URL, "wrong").CreateLivenessSession(ctx, valid)
		require.True(t, face.IsCredentials(err), "%v", err)
	})
	t.Run("quota answers 429 with Retry-After", func(t *testing.T) {
		emu := harness.StartEmulator(t, emulator.Config{Quota: emulator.Quota{RequestsPerSecond: 1, Burst: 1}})
		c := harness.FaceClient(t, emu.URL, harness.TestAPIKey)
		_, err := c.CreateLivenessSession(ctx, valid)
		require.NoError(t, err)
		_, err = c.CreateLivenessSession(ctx, valid)
		require.True(t, face.IsThrottled(err), "%v", err)
		require.GreaterOrEqual(t, face.RetryAfter(err), time.Second)
		require.Equal(t, int64(1), emu.Stats().ByOperation[emulator.OpCreateLivenessSession].ByStatus["429"],
			"a throttled create is not retried by the client")
	})
	t.Run("a create committed but never answered is outcome-unknown", func(t *testing.T) {
		emu := harness.StartEmulator(t, emulator.Config{Faults: emulator.Faults{CommitThenDropRate: 1}})
		c := harness.FaceClient(t, emu.URL, harness.TestAPIKey)
		_, err := c.CreateLivenessSession(ctx, valid)
		require.ErrorIs(t, err, face.ErrOutcomeUnknown)
		sessions := emu.Sessions()
		require.Len(t, sessions, 1, "the session exists although its answer was lost")
		require.True(t, sessions[0].ResponseDropped)
	})
	t.Run("gets are retried through 503s", func(t *testing.T) {
		emu := harness.StartEmulator(t, emulator.Config{})
		c := harness.FaceClient(t, emu.URL, harness.TestAPIKey)
		s, err := c.CreateLivenessSession(ctx, valid)
		require.NoError(t, err)
		require.NoError(t, emu.SetFaults(emulator.Faults{ErrorRate503: 0.5}))
		for i := 0; i < 10; i++ {
			_, err := c.GetLivenessSessionResult(ctx, s.SessionID)
			require.NoError(t, err, "get %d", i)
		}
		require.Positive(t, emu.Stats().ByStatus["503"])
	})
	t.Run("the emulator refuses a create whose connection is dropped, without storing it", func(t *testing.T) {
		emu := harness.StartEmulator(t, emulator.Config{Faults: emulator.Faults{DropRate: 1}})
		c := harness.FaceClient(t, emu.URL, harness.TestAPIKey)
		_, err := c.CreateLivenessSession(ctx, valid)
		require.Error(t, err)
		require.True(t, face.IsRetryable(err))
		require.Empty(t, emu.Sessions())
	})
}
