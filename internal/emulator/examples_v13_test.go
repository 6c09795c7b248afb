package emulator_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// The published v1.3-preview.1 examples (test/testdata/face-api-examples/v1.3-preview.1,
// top level and variants/) are replayed against /face/v1.3-preview.1/ as the v1.2 ones are:
// the answer must have the example's shape. Where LIVENESS-API-v1.3.md says the example is
// wrong or incomplete, the test says so and checks the interpretation instead.

const (
	livenessPathV13 = "/face/v1.3-preview.1/detectLiveness-sessions"
	verifyPathV13   = "/face/v1.3-preview.1/detectLivenessWithVerify-sessions"
	settingsPathV13 = "/face/v1.3-preview.1/settings"
)

func v13ExampleFiles(t *testing.T) []string {
	dir := filepath.Join(examplesDir(), "v1.3-preview.1")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	variants, err := filepath.Glob(filepath.Join(dir, "variants", "*.json"))
	require.NoError(t, err)
	return append(files, variants...)
}

func TestPublishedExamplesV13(t *testing.T) {
	files := v13ExampleFiles(t)
	require.Len(t, files, 10, "9 top-level examples + 1 variant")
	for _, f := range files {
		t.Run(strings.TrimPrefix(f, examplesDir()), func(t *testing.T) {
			raw, err := os.ReadFile(f)
			require.NoError(t, err)
			var ex example
			require.NoError(t, json.Unmarshal(raw, &ex))
			e := newEnv(t, emulator.Config{})
			switch ex.OperationID {
			case "LivenessSessionOperations_CreateLivenessSession":
				// The example sends no userCorrelationId, which the field text and the
				// reported service behaviour require (LIVENESS-API-v1.3.md §3, §8).
				r := e.do(http.MethodPost, livenessPathV13, ex.Parameters["body"], "application/json")
				require.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
				require.Contains(t, r.message(t), "userCorrelationId")
				var body map[string]any
				require.NoError(t, json.Unmarshal(ex.Parameters["body"], &body))
				body["userCorrelationId"] = "user-1"
				requireShape(t, ex, "200", e.postJSON(livenessPathV13, body))
			case "LivenessSessionOperations_CreateLivenessWithVerifySession":
				// Still the v1.2 example: no numberOfClientAttemptsAllowed part and no
				// isAbuseMonitoringEnabled in the answer, which v1.3 has (§4, §5.1).
				body, ct := multipartBody(t, exampleParts(t, ex))
				r := e.do(http.MethodPost, verifyPathV13, body, ct)
				require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
				m := r.json(t)
				require.Equal(t, true, m["isAbuseMonitoringEnabled"])
				delete(m, "isAbuseMonitoringEnabled")
				b, _ := json.Marshal(m)
				requireShape(t, ex, "200", response{status: r.status, header: r.header, body: b})
			case "LivenessSessionOperations_GetLivenessSessionResult":
				requireShapeOfGet(t, ex, []response{e.flaggedSessionV13(false)})
			case "LivenessSessionOperations_GetLivenessWithVerifySessionResult":
				requireShapeOfGet(t, ex, []response{e.flaggedSessionV13(true)})
			case "LivenessSessionOperations_DeleteLivenessSession":
				id := e.createV13(nil)["sessionId"].(string)
				e.requireDeleted(ex, livenessPathV13+"/"+id)
			case "LivenessSessionOperations_GetSessionImage":
				id, _ := e.sessionImage()
				r := e.do(http.MethodGet, "/face/v1.3-preview.1/sessionImages/"+id, nil, "")
				require.Equal(t, http.StatusOK, r.status)
				_, err := pngDecode(r.body)
				require.NoError(t, err)
			case "LivenessSessionOperations_GetSettings":
				requireShape(t, ex, "200", e.do(http.MethodGet, settingsPathV13, nil, ""))
			case "LivenessSessionOperations_PatchSettings":
				// The example's flat request is accepted; the answer has the schema's
				// shape, not the example's (§6.2).
				r := e.do(http.MethodPatch, settingsPathV13, ex.Parameters["body"], "application/json")
				require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
				require.JSONEq(t, `{"livenessAbuseMonitoring":{"enabled":true}}`, string(r.body))
			case "LivenessSessionOperations_GetClientAssetsAccessToken":
				r := e.do(http.MethodGet, settingsPathV13+"/getClientAssetsAccessToken", nil, "")
				requireShape(t, ex, "200", r)
				m := r.json(t)
				dec, err := base64.StdEncoding.DecodeString(m["base64AccessToken"].(string))
				require.NoError(t, err)
				require.Equal(t, m["accessToken"], string(dec))
			default:
				t.Fatalf("example for operation %q is not replayed; add it to this test", ex.OperationID)
			}
		})
	}
}

// createV13 creates a v1.3 liveness session with a user correlation id.
func (e *env) createV13(extra map[string]any) map[string]any {
	e.t.Helper()
	body := validCreate()
	body["userCorrelationId"] = "user-1"
	for k, v := range extra {
		body[k] = v
	}
	r := e.postJSON(livenessPathV13, body)
	require.Equal(e.t, http.StatusOK, r.status, "body: %s", r.body)
	return r.json(e.t)
}

// flaggedSessionV13 reproduces the Get example: session A shows face "f" under user a;
// session B (two attempts allowed, under user b) fails once, then shows the same face
// and is flagged with A's attempt. It returns B's Get answer.
func (e *env) flaggedSessionV13(verify bool) response {
	create := func(user string) map[string]any {
		if !verify {
			return e.createV13(map[string]any{"enableSessionImage": true, "userCorrelationId": user, "numberOfClientAttemptsAllowed": 2})
		}
		r := e.createVerifyAt(verifyPathV13, append(validVerifyParts(noisyPNG(e.t, 64, 64)),
			part{name: "enableSessionImage", value: "true"}, part{name: "returnVerifyImageHash", value: "true"},
			part{name: "numberOfClientAttemptsAllowed", value: "2"}, part{name: "userCorrelationId", value: user}))
		require.Equal(e.t, http.StatusOK, r.status, "body: %s", r.body)
		return r.json(e.t)
	}
	a, b := create("user-a"), create("user-b")
	ok := func(r response) { require.Equal(e.t, http.StatusOK, r.status, "body: %s", r.body) }
	ok(e.attempt(a["authToken"].(string), map[string]any{"livenessDecision": "realface", "faceId": "f", "clientIp": "73.21.34.122"}))
	ok(e.attempt(b["authToken"].(string), map[string]any{"errorCode": "FaceWithMaskDetected", "clientIp": "73.21.34.122"}))
	ok(e.attempt(b["authToken"].(string), map[string]any{"livenessDecision": "realface", "faceId": "f", "clientIp": "73.21.34.122"}))
	p := livenessPathV13
	if verify {
		p = verifyPathV13
	}
	r := e.do(http.MethodGet, p+"/"+b["sessionId"].(string), nil, "")
	flagged := path(e.t, r.json(e.t), "results", "attempts", 0, "abuseMonitoringResult", "otherFlaggedSessions", 0).(map[string]any)
	require.Equal(e.t, a["sessionId"], flagged["sessionId"])
	return r
}

func (e *env) createVerifyAt(p string, parts []part) response {
	e.t.Helper()
	body, ct := multipartBody(e.t, parts)
	return e.do(http.MethodPost, p, body, ct)
}
