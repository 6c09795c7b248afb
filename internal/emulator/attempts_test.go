package emulator_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

var hex64RE = regexp.MustCompile(`^[0-9A-F]{64}$`)

func TestAttemptPlainSession(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	created := e.createLiveness(nil)
	id, token := created["sessionId"].(string), created["authToken"].(string)

	r := e.attempt(token, map[string]any{"livenessDecision": "realface"})
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	ar := r.json(t)
	require.Equal(t, id, ar["sessionId"])
	require.Equal(t, "Succeeded", ar["status"])
	require.Equal(t, "liveness", ar["kind"])
	require.NotContains(t, ar, "sessionImageId", "no session image unless enabled")

	got := e.do(http.MethodGet, livenessPath+"/"+id, nil, "").json(t)
	require.Equal(t, "Succeeded", got["status"])
	attempts := path(t, got, "results", "attempts").([]any)
	require.Len(t, attempts, 1)
	a := attempts[0].(map[string]any)
	require.Equal(t, ar["attempt"], a, "the side door reports the attempt as the Face API does")
	require.Equal(t, 1.0, a["attemptId"])
	require.Equal(t, "Succeeded", a["attemptStatus"])
	require.NotContains(t, a, "error")
	res := a["result"].(map[string]any)
	require.ElementsMatch(t, []string{"livenessDecision", "targets", "digest"}, keys(res))
	require.Equal(t, "realface", res["livenessDecision"])
	require.Regexp(t, hex64RE, res["digest"])
	rect := path(t, res, "targets", "color", "faceRectangle").(map[string]any)
	require.ElementsMatch(t, []string{"top", "left", "width", "height"}, keys(rect))
	require.Greater(t, rect["width"].(float64), 0.0)
}

func TestAttemptDecisionsAndSpelling(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	for in, want := range map[string]string{"realface": "realface", "realFace": "realface", "SPOOFFACE": "spoofface", "uncertain": "uncertain"} {
		token := e.createLiveness(nil)["authToken"].(string)
		r := e.attempt(token, map[string]any{"livenessDecision": in})
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, want, path(t, r.json(t), "attempt", "result", "livenessDecision"))
	}
}

func TestAttemptError(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	created := e.createLiveness(map[string]any{"enableSessionImage": true})
	r := e.attempt(created["authToken"].(string), map[string]any{"errorCode": "FaceWithMaskDetected"})
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.Equal(t, "Failed", r.json(t)["status"])
	got := e.do(http.MethodGet, livenessPath+"/"+created["sessionId"].(string), nil, "").json(t)
	require.Equal(t, "Failed", got["status"])
	a := path(t, got, "results", "attempts", 0).(map[string]any)
	require.Equal(t, "Failed", a["attemptStatus"])
	require.NotContains(t, a, "result")
	er := a["error"].(map[string]any)
	require.Equal(t, "FaceWithMaskDetected", er["code"])
	require.Equal(t, "Mask detected on face image.", er["message"])
	require.NotNil(t, path(t, er, "targets", "color", "faceRectangle"))

	custom := e.createLiveness(nil)
	r = e.attempt(custom["authToken"].(string), map[string]any{"errorCode": "Weird", "errorMessage": "Something odd."})
	require.Equal(t, "Something odd.", path(t, r.json(t), "attempt", "error", "message"))
}

func TestAttemptVerifySession(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	img := noisyPNG(t, 64, 80)
	sum := sha256.Sum256(img)
	wantHash := strings.ToUpper(hex.EncodeToString(sum[:]))

	cases := []struct {
		threshold  string // "" = default 0.5
		confidence any
		identical  bool
	}{
		{"0.9", 0.93, true},
		{"0.9", 0.9, true},
		{"0.9", 0.89, false},
		{"", 0.5, true},
		{"", 0.49, false},
		{"", nil, true}, // default matchConfidence 0.95
	}
	for _, tc := range cases {
		parts := append(validVerifyParts(img),
			part{name: "returnVerifyImageHash", value: "true"},
			part{name: "enableSessionImage", value: "true"})
		if tc.threshold != "" {
			parts = append(parts, part{name: "verifyConfidenceThreshold", value: tc.threshold})
		}
		created := e.createVerify(parts).json(t)
		body := map[string]any{"livenessDecision": "realface"}
		if tc.confidence != nil {
			body["matchConfidence"] = tc.confidence
		}
		r := e.attempt(created["authToken"].(string), body)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)

		got := e.do(http.MethodGet, verifyPath+"/"+created["sessionId"].(string), nil, "").json(t)
		res := path(t, got, "results", "attempts", 0, "result").(map[string]any)
		require.ElementsMatch(t, []string{"livenessDecision", "targets", "verifyResult", "digest", "sessionImageId", "verifyImageHash"}, keys(res))
		vr := res["verifyResult"].(map[string]any)
		wantConf := emulator.DefaultMatchConfidence
		if tc.confidence != nil {
			wantConf = tc.confidence.(float64)
		}
		require.Equal(t, wantConf, vr["matchConfidence"])
		require.Equal(t, tc.identical, vr["isIdentical"], "threshold %q confidence %v", tc.threshold, tc.confidence)
		require.Equal(t, wantHash, res["verifyImageHash"])
		require.Len(t, path(t, got, "results", "verifyReferences").([]any), 1)
	}
}

func TestAttemptVerifyWithoutHashOrImage(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	created := e.createVerify(validVerifyParts(noisyPNG(t, 64, 64))).json(t)
	r := e.attempt(created["authToken"].(string), map[string]any{"livenessDecision": "spoofface", "matchConfidence": 0.1})
	require.Equal(t, http.StatusOK, r.status)
	res := path(t, r.json(t), "attempt", "result").(map[string]any)
	require.ElementsMatch(t, []string{"livenessDecision", "targets", "verifyResult", "digest"}, keys(res))
}

func TestSessionImageFromAttempt(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	created := e.createLiveness(map[string]any{"enableSessionImage": true})
	r := e.attempt(created["authToken"].(string), map[string]any{"livenessDecision": "realface"})
	imageID := r.json(t)["sessionImageId"].(string)
	require.Len(t, imageID, 44, "opaque 44-character id like the examples")
	require.Equal(t, imageID, path(t, r.json(t), "attempt", "result", "sessionImageId"))

	img := e.do(http.MethodGet, "/face/v1.2/sessionImages/"+imageID, nil, "")
	require.Equal(t, http.StatusOK, img.status)
	require.Equal(t, "application/octet-stream", img.header.Get("Content-Type"))
	decoded, err := pngDecode(img.body)
	require.NoError(t, err)
	require.Equal(t, 480, decoded.Bounds().Dx())
	require.Equal(t, 640, decoded.Bounds().Dy())

	// The image is gone with its session.
	require.Equal(t, http.StatusNoContent, e.do(http.MethodDelete, livenessPath+"/"+created["sessionId"].(string), nil, "").status)
	gone := e.do(http.MethodGet, "/face/v1.2/sessionImages/"+imageID, nil, "")
	require.Equal(t, http.StatusNotFound, gone.status)
	require.Equal(t, "SessionImageNotFound", gone.errorCode(t))
}

func TestSessionImageUnknown(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	r := e.do(http.MethodGet, "/face/v1.2/sessionImages/nothing", nil, "")
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, "SessionImageNotFound", r.errorCode(t))
}

func TestSecondAttemptRefused(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	token := e.createLiveness(nil)["authToken"].(string)
	require.Equal(t, http.StatusOK, e.attempt(token, map[string]any{"livenessDecision": "realface"}).status)
	r := e.attempt(token, map[string]any{"livenessDecision": "spoofface"})
	require.Equal(t, http.StatusConflict, r.status)
	require.Equal(t, "AttemptLimitReached", r.errorCode(t))
}

func TestAttemptTokenExpiry(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, emulator.Config{Now: clock.Now})
	token := e.createLiveness(map[string]any{"authTokenTimeToLiveInSeconds": 60})["authToken"].(string)
	clock.Advance(60 * time.Second)
	r := e.attempt(token, map[string]any{"livenessDecision": "realface"})
	require.Equal(t, http.StatusUnauthorized, r.status)
	require.Equal(t, "AuthTokenExpired", r.errorCode(t))

	token = e.createLiveness(map[string]any{"authTokenTimeToLiveInSeconds": 60})["authToken"].(string)
	clock.Advance(59 * time.Second)
	require.Equal(t, http.StatusOK, e.attempt(token, map[string]any{"livenessDecision": "realface"}).status)
}

func TestDeleteRevokesToken(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	created := e.createLiveness(nil)
	require.Equal(t, http.StatusNoContent, e.do(http.MethodDelete, livenessPath+"/"+created["sessionId"].(string), nil, "").status)
	r := e.attempt(created["authToken"].(string), map[string]any{"livenessDecision": "realface"})
	require.Equal(t, http.StatusUnauthorized, r.status)
	require.Equal(t, "AuthTokenRevoked", r.errorCode(t))
}

func TestAttemptUnknownOrMissingToken(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	r := e.attempt("not-a-token", map[string]any{"livenessDecision": "realface"})
	require.Equal(t, http.StatusUnauthorized, r.status)
	require.Equal(t, "InvalidAuthToken", r.errorCode(t))
	r = e.do(http.MethodPost, "/emulator/attempts", []byte(`{"livenessDecision":"realface"}`), "application/json")
	require.Equal(t, http.StatusUnauthorized, r.status)
	require.Equal(t, "InvalidAuthToken", r.errorCode(t))
}

func TestAttemptValidation(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	plain := e.createLiveness(nil)["authToken"].(string)
	verify := e.createVerify(validVerifyParts(noisyPNG(t, 64, 64))).json(t)["authToken"].(string)
	for name, tc := range map[string]struct {
		token string
		body  any
		msg   string
	}{
		"neither":                 {plain, map[string]any{}, "livenessDecision"},
		"both":                    {plain, map[string]any{"livenessDecision": "realface", "errorCode": "X"}, "not both"},
		"bad decision":            {plain, map[string]any{"livenessDecision": "maybe"}, "maybe"},
		"confidence on plain":     {plain, map[string]any{"livenessDecision": "realface", "matchConfidence": 0.9}, "liveness-with-verify"},
		"confidence out of range": {verify, map[string]any{"livenessDecision": "realface", "matchConfidence": 1.2}, "between 0 and 1"},
		"confidence with error":   {verify, map[string]any{"errorCode": "X", "matchConfidence": 0.2}, "failed attempt"},
		"message without code":    {plain, map[string]any{"livenessDecision": "realface", "errorMessage": "m"}, "errorCode"},
		"unknown field":           {plain, map[string]any{"decision": "realface"}, "decision"},
		"confidence not a number": {verify, map[string]any{"livenessDecision": "realface", "matchConfidence": "high"}, "matchConfidence"},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.attempt(tc.token, tc.body)
			require.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
			require.Equal(t, "BadArgument", r.errorCode(t))
			require.Contains(t, r.message(t), tc.msg)
		})
	}
	// Refused attempts do not use up the session's one attempt.
	require.Equal(t, http.StatusOK, e.attempt(plain, map[string]any{"livenessDecision": "realface"}).status)
}

func TestAttemptGoMethod(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	created := e.createVerify(append(validVerifyParts(noisyPNG(t, 64, 64)), part{name: "verifyConfidenceThreshold", value: "0.7"})).json(t)
	mc := 0.6
	resp, err := e.srv.Attempt(created["authToken"].(string), emulator.AttemptRequest{LivenessDecision: "realface", MatchConfidence: &mc})
	require.NoError(t, err)
	require.Equal(t, "Succeeded", resp.Status)
	var a map[string]any
	require.NoError(t, json.Unmarshal(resp.Attempt, &a))
	require.Equal(t, false, path(t, a, "result", "verifyResult", "isIdentical"))

	_, err = e.srv.Attempt("nope", emulator.AttemptRequest{LivenessDecision: "realface"})
	var ee *emulator.Error
	require.True(t, errors.As(err, &ee))
	require.Equal(t, http.StatusUnauthorized, ee.StatusCode)
	require.Equal(t, "InvalidAuthToken", ee.Code)
}

func TestStaleSessionStatus(t *testing.T) {
	e := newEnv(t, emulator.Config{StaleSessionStatus: true})
	created := e.createLiveness(nil)
	require.Equal(t, http.StatusOK, e.attempt(created["authToken"].(string), map[string]any{"livenessDecision": "realface"}).status)
	got := e.do(http.MethodGet, livenessPath+"/"+created["sessionId"].(string), nil, "").json(t)
	require.Equal(t, "NotStarted", got["status"], "like the published examples")
	require.Equal(t, "Succeeded", path(t, got, "results", "attempts", 0, "attemptStatus"))
}
