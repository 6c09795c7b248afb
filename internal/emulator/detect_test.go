package emulator_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// sessionImage creates a session with an image-producing attempt and returns the
// image id and the attempt's face rectangle.
func (e *env) sessionImage() (string, any) {
	e.t.Helper()
	created := e.createLiveness(map[string]any{"enableSessionImage": true})
	r := e.attempt(created["authToken"].(string), map[string]any{"livenessDecision": "realface"})
	require.Equal(e.t, http.StatusOK, r.status)
	m := r.json(e.t)
	return m["sessionImageId"].(string), path(e.t, m, "attempt", "result", "targets", "color", "faceRectangle")
}

func (e *env) detect(query string, body any) response {
	e.t.Helper()
	b, err := json.Marshal(body)
	require.NoError(e.t, err)
	return e.do(http.MethodPost, "/face/v1.2/detect"+query, b, "application/json")
}

func TestDetectDefaults(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	id, rect := e.sessionImage()
	r := e.detect("", map[string]any{"sessionImageId": id})
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	var faces []map[string]any
	require.NoError(t, json.Unmarshal(r.body, &faces))
	require.Len(t, faces, 1)
	require.ElementsMatch(t, []string{"faceId", "faceRectangle"}, keys(faces[0]))
	require.Regexp(t, uuidRE, faces[0]["faceId"])
	require.Equal(t, rect, faces[0]["faceRectangle"], "detect finds the face where the attempt reported it")
}

func TestDetectOptions(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	id, _ := e.sessionImage()
	r := e.detect("?returnFaceId=false&returnRecognitionModel=true&recognitionModel=recognition_04", map[string]any{"sessionImageId": id})
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	var faces []map[string]any
	require.NoError(t, json.Unmarshal(r.body, &faces))
	require.ElementsMatch(t, []string{"recognitionModel", "faceRectangle"}, keys(faces[0]))
	require.Equal(t, "recognition_04", faces[0]["recognitionModel"])

	r = e.detect("?detectionModel=detection_03&recognitionModel=recognition_04&returnFaceLandmarks=true&returnFaceAttributes=headPose,mask,blur,qualityForRecognition&faceIdTimeToLive=60",
		map[string]any{"sessionImageId": id})
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.NoError(t, json.Unmarshal(r.body, &faces))
	require.Len(t, faces[0]["faceLandmarks"], 27)
	attrs := faces[0]["faceAttributes"].(map[string]any)
	require.ElementsMatch(t, []string{"headPose", "mask", "blur", "qualityForRecognition"}, keys(attrs))
	require.Equal(t, "high", attrs["qualityForRecognition"])
	require.Equal(t, "noMask", path(t, attrs, "mask", "type"))
}

func TestDetectValidation(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	id, _ := e.sessionImage()
	body := map[string]any{"sessionImageId": id}
	for _, tc := range []struct{ query, mention string }{
		{"?detectionModel=detection_04", "detectionModel"},
		{"?recognitionModel=recognition_05", "recognitionModel"},
		{"?returnFaceId=yes", "returnFaceId"},
		{"?returnFaceLandmarks=1", "returnFaceLandmarks"},
		{"?returnRecognitionModel=maybe", "returnRecognitionModel"},
		{"?faceIdTimeToLive=59", "faceIdTimeToLive"},
		{"?faceIdTimeToLive=86401", "60 and 86400"},
		{"?returnFaceAttributes=emotion", "emotion"},
		{"?returnFaceAttributes=glasses&detectionModel=detection_02", "detection_02"},
		{"?returnFaceAttributes=mask", "detection_01"},
		{"?returnFaceAttributes=qualityForRecognition", "recognition_03"},
		{"?returnFaceLandmarks=true&detectionModel=detection_02", "detection_02"},
	} {
		r := e.detect(tc.query, body)
		require.Equal(t, http.StatusBadRequest, r.status, "%s: %s", tc.query, r.body)
		require.Equal(t, "BadArgument", r.errorCode(t))
		require.Contains(t, r.message(t), tc.mention, tc.query)
	}
	r := e.detect("", map[string]any{})
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Contains(t, r.message(t), "sessionImageId")
	r = e.detect("", map[string]any{"url": "https://example.invalid/a.jpg"})
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Contains(t, r.message(t), "not emulated")
	r = e.do(http.MethodPost, "/face/v1.2/detect", []byte("raw"), "application/octet-stream")
	require.Equal(t, http.StatusUnsupportedMediaType, r.status)
	r = e.detect("", map[string]any{"sessionImageId": "missing"})
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, "SessionImageNotFound", r.errorCode(t))
}
