package face

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

func TestLatestAttempt(t *testing.T) {
	var nilSession *LivenessSession
	require.Nil(t, nilSession.LatestAttempt())
	require.Nil(t, (&LivenessSession{}).LatestAttempt())

	s := &LivenessSession{Results: LivenessSessionResults{Attempts: []LivenessSessionAttempt{
		{AttemptID: 2, AttemptStatus: "Failed"}, {AttemptID: 3, AttemptStatus: "Running"}, {AttemptID: 1},
	}}}
	require.EqualValues(t, 3, s.LatestAttempt().AttemptID)
	require.Same(t, &s.Results.Attempts[1], s.LatestAttempt(), "points into the session, not a copy")

	var nilVerify *LivenessWithVerifySession
	require.Nil(t, nilVerify.LatestAttempt())
	v := &LivenessWithVerifySession{Results: LivenessWithVerifySessionResults{Attempts: []LivenessWithVerifySessionAttempt{
		{AttemptID: 1}, {AttemptID: 5}, {AttemptID: 4},
	}}}
	require.EqualValues(t, 5, v.LatestAttempt().AttemptID)
}

func TestEnumHelpers(t *testing.T) {
	for _, s := range []OperationState{"Succeeded", "succeeded", "FAILED", "Canceled", "canceled"} {
		require.True(t, s.IsTerminal(), s)
	}
	for _, s := range []OperationState{"NotStarted", "Running", "running", "", "SomethingNew"} {
		require.False(t, s.IsTerminal(), s)
	}
	require.True(t, OperationState("notstarted").Is(OperationStateNotStarted))

	for _, d := range []LivenessDecision{"realface", "realFace", "RealFace", "REALFACE"} {
		require.True(t, d.Is(LivenessDecisionRealFace), d)
		require.Equal(t, LivenessDecisionRealFace, d.Normalized())
	}
	require.Equal(t, LivenessDecisionSpoofFace, LivenessDecision("spoofFace").Normalized())
	require.Equal(t, LivenessDecision("newverdict"), LivenessDecision("NewVerdict").Normalized(), "unknown values kept")
	require.False(t, LivenessDecision("uncertain").Is(LivenessDecisionRealFace))

	require.True(t, ImageType("color").Is(ImageTypeColor))
	require.False(t, ImageType("image").Is(ImageTypeColor))
	require.True(t, QualityForRecognition("HIGH").Is(QualityForRecognitionHigh))
	require.True(t, LivenessOperationMode("passiveactive").Is(LivenessOperationModePassiveActive))
}

func TestDecodeIsLenient(t *testing.T) {
	// v1.3-preview adds fields; unknown ones must be ignored, enum spellings kept.
	body := `{"sessionId":"s","authToken":"t","status":"succeeded","modelVersion":"2099-01-01",
		"isAbuseMonitoringEnabled":true,"expectedClientIpAddress":"10.0.0.0/8",
		"results":{"attempts":[{"attemptId":1,"attemptStatus":"Succeeded","clientInformation":[{"ip":"1.2.3.4"}],
		"result":{"livenessDecision":"SpoofFace","targets":{"color":{"faceRectangle":{"top":1,"left":2,"width":3,"height":4}}},"digest":"D"},
		"abuseMonitoringResult":{"isAbuseDetected":false}}]}}`
	s, err := decodeLivenessSession([]byte(body))
	require.NoError(t, err)
	require.Equal(t, OperationState("succeeded"), s.Status)
	require.True(t, s.Status.IsTerminal())
	require.True(t, s.LatestAttempt().Result.LivenessDecision.Is(LivenessDecisionSpoofFace))
	require.Equal(t, FaceRectangle{Top: 1, Left: 2, Width: 3, Height: 4}, s.LatestAttempt().Result.Targets.Color.FaceRectangle)

	// Null result/error and missing optional fields.
	s, err = decodeLivenessSession([]byte(`{"sessionId":"s","results":{"attempts":[{"attemptId":1,"attemptStatus":"Running","result":null,"error":null}]}}`))
	require.NoError(t, err)
	require.Nil(t, s.LatestAttempt().Result)
	require.Nil(t, s.LatestAttempt().Error)

	_, err = decodeLivenessSession([]byte(`[]`))
	require.Error(t, err)
	_, err = decodeLivenessSession([]byte(`null`))
	require.ErrorIs(t, err, errMissingSessionID)
	_, err = decodeLivenessWithVerifySession([]byte(`{"authToken":"t"}`))
	require.ErrorIs(t, err, errMissingSessionID)

	faces, err := decodeDetectResults([]byte(`[{"faceRectangle":{"top":1,"left":1,"width":1,"height":1},"extra":1}]`))
	require.NoError(t, err)
	require.Len(t, faces, 1)
	require.Nil(t, faces[0].FaceAttributes)
}
