package emulator_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

func TestV13CreateValidation(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	for _, tc := range []struct {
		name, body string
		mentions   []string
	}{
		{"no user correlation", `{"livenessOperationMode":"Passive","deviceCorrelationId":"d"}`, []string{"userCorrelationId", "required"}},
		{"empty user correlation", `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","userCorrelationId":""}`, []string{"userCorrelationId"}},
		{"user id with in-client", `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","userCorrelationIdSetInClient":true,"userCorrelationId":"u"}`, []string{"userCorrelationId", "absent or null"}},
		{"attempts 0", `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","userCorrelationId":"u","numberOfClientAttemptsAllowed":0}`, []string{"numberOfClientAttemptsAllowed", "1", "3"}},
		{"attempts 4", `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","userCorrelationId":"u","numberOfClientAttemptsAllowed":4}`, []string{"numberOfClientAttemptsAllowed"}},
		{"attempts string", `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","userCorrelationId":"u","numberOfClientAttemptsAllowed":"2"}`, []string{"numberOfClientAttemptsAllowed", "integer"}},
		{"bad ip", `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","userCorrelationId":"u","expectedClientIpAddress":"10.0.0.256"}`, []string{"expectedClientIpAddress"}},
		{"bad cidr", `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","userCorrelationId":"u","expectedClientIpAddress":"10.0.0.0/40"}`, []string{"expectedClientIpAddress"}},
		{"in-client not bool", `{"livenessOperationMode":"Passive","deviceCorrelationId":"d","userCorrelationIdSetInClient":"true"}`, []string{"userCorrelationIdSetInClient", "boolean"}},
		{"bad mode", `{"livenessOperationMode":"Active","deviceCorrelationId":"d","userCorrelationId":"u"}`, []string{"livenessOperationMode"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(http.MethodPost, livenessPathV13, []byte(tc.body), "application/json")
			require.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
			require.Equal(t, "BadArgument", r.errorCode(t))
			for _, m := range tc.mentions {
				require.Contains(t, r.message(t), m)
			}
		})
	}
	require.Empty(t, e.srv.Sessions())

	// Accepted: in-client without an id; the tutorial's lower-case mode, stored in spec spelling.
	r := e.do(http.MethodPost, livenessPathV13, []byte(`{"livenessOperationMode":"passiveactive","deviceCorrelationId":"d","userCorrelationIdSetInClient":true,"numberOfClientAttemptsAllowed":3,"expectedClientIpAddress":"2001:db8::/32"}`), "application/json")
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	m := r.json(t)
	require.Equal(t, true, m["isAbuseMonitoringEnabled"])
	require.Equal(t, "2001:db8::/32", m["expectedClientIpAddress"])
	info, ok := e.srv.Session(m["sessionId"].(string))
	require.True(t, ok)
	require.Equal(t, "PassiveActive", info.LivenessOperationMode)
	require.Equal(t, emulator.APIVersionV13Preview1, info.APIVersion)
	require.Equal(t, 3, info.NumberOfClientAttemptsAllowed)
	require.Equal(t, 3, info.AttemptsRemaining)
	require.True(t, info.UserCorrelationIDSetInClient)

	// v1.2 is unchanged: lower case refused, v1.3 members ignored, no v1.3 field in the answer.
	r = e.do(http.MethodPost, livenessPath, []byte(`{"livenessOperationMode":"passiveactive","deviceCorrelationId":"d"}`), "application/json")
	require.Equal(t, http.StatusBadRequest, r.status)
	m = e.createLiveness(map[string]any{"numberOfClientAttemptsAllowed": 3, "userCorrelationId": "u"})
	require.NotContains(t, m, "isAbuseMonitoringEnabled")
	info, _ = e.srv.Session(m["sessionId"].(string))
	require.Equal(t, emulator.APIVersionV12, info.APIVersion)
	require.Equal(t, 1, info.NumberOfClientAttemptsAllowed)
}

func TestV13MultipartCreate(t *testing.T) {
	img := noisyPNG(t, 64, 64)
	e := newEnv(t, emulator.Config{})
	r := e.createVerifyAt(verifyPathV13, append(validVerifyParts(img), part{name: "numberOfClientAttemptsAllowed", value: "2"}))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	info, _ := e.srv.Session(r.json(t)["sessionId"].(string))
	require.Equal(t, 2, info.NumberOfClientAttemptsAllowed)
	require.Empty(t, info.UserCorrelationID, "not enforced on multipart by default")

	for _, tc := range []struct {
		p       part
		mention string
	}{
		{part{name: "numberOfClientAttemptsAllowed", value: "4"}, "between 1 and 3"},
		{part{name: "numberOfClientAttemptsAllowed", value: "two"}, "integer"},
		{part{name: "expectedClientIpAddress", value: "10.0.0.1"}, "JSON create only"},
		{part{name: "userCorrelationIdSetInClient", value: "true"}, "JSON create only"},
	} {
		r := e.createVerifyAt(verifyPathV13, append(validVerifyParts(img), tc.p))
		require.Equal(t, http.StatusBadRequest, r.status, "%s: %s", tc.p.name, r.body)
		require.Contains(t, r.message(t), tc.mention)
	}
	// Under v1.2 the v1.3 parts are unknown, with a hint.
	r = e.createVerify(append(validVerifyParts(img), part{name: "numberOfClientAttemptsAllowed", value: "2"}))
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Contains(t, r.message(t), "v1.3-preview.1")

	strict := newEnv(t, emulator.Config{RequireUserCorrelationIDOnMultipart: true})
	r = strict.createVerifyAt(verifyPathV13, validVerifyParts(img))
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Contains(t, r.message(t), "userCorrelationId")
	r = strict.createVerifyAt(verifyPathV13, append(validVerifyParts(img), part{name: "userCorrelationId", value: "u"}))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	r = strict.createVerify(validVerifyParts(img))
	require.Equal(t, http.StatusOK, r.status, "v1.2 never requires it")
}

func TestV13Attempts(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	s := e.createV13(map[string]any{"numberOfClientAttemptsAllowed": 3})
	tok, id := s["authToken"].(string), s["sessionId"].(string)
	get := func() map[string]any {
		r := e.do(http.MethodGet, livenessPathV13+"/"+id, nil, "")
		require.Equal(t, http.StatusOK, r.status)
		return r.json(t)
	}
	require.Equal(t, http.StatusOK, e.attempt(tok, map[string]any{"errorCode": "FaceNotDetected"}).status)
	require.Equal(t, "NotStarted", get()["status"], "the user may still try again")
	require.Equal(t, http.StatusOK, e.attempt(tok, map[string]any{"errorCode": "FaceWithMaskDetected", "clientIps": []string{"203.0.113.7", "2001:db8::1"}}).status)
	require.Equal(t, http.StatusOK, e.attempt(tok, map[string]any{"livenessDecision": "realface", "clientIp": "198.51.100.1"}).status)
	m := get()
	require.Equal(t, "Succeeded", m["status"])
	attempts := path(t, m, "results", "attempts").([]any)
	require.Len(t, attempts, 3)
	require.Equal(t, float64(3), path(t, attempts, 0, "attemptId"), "newest first")
	require.Equal(t, "198.51.100.1", path(t, attempts, 0, "clientInformation", 0, "ip"))
	require.Equal(t, "2001:db8::1", path(t, attempts, 1, "clientInformation", 1, "ip"))
	require.Equal(t, emulator.DefaultClientIP, path(t, attempts, 2, "clientInformation", 0, "ip"))
	require.Equal(t, false, path(t, attempts, 0, "abuseMonitoringResult", "isAbuseDetected"))
	require.Equal(t, []any{}, path(t, attempts, 0, "abuseMonitoringResult", "otherFlaggedSessions"))
	require.NotContains(t, attempts[1].(map[string]any), "abuseMonitoringResult", "a failed attempt has no abuse verdict")

	r := e.attempt(tok, map[string]any{"livenessDecision": "realface"})
	require.Equal(t, http.StatusConflict, r.status)
	require.Equal(t, "AttemptLimitReached", r.errorCode(t))
	require.Contains(t, r.message(t), "numberOfClientAttemptsAllowed=3")

	info, _ := e.srv.Session(id)
	require.Zero(t, info.AttemptsRemaining)
	require.Len(t, info.AttemptLog, 3)
	require.Equal(t, []string{"203.0.113.7", "2001:db8::1"}, info.AttemptLog[1].ClientIPs)
	require.Equal(t, "user-1", info.AttemptLog[0].UserCorrelationID)

	// A v1.2 read of the same session shows no v1.3 field.
	r = e.do(http.MethodGet, livenessPath+"/"+id, nil, "")
	require.NotContains(t, string(r.body), "clientInformation")
	require.NotContains(t, string(r.body), "isAbuseMonitoringEnabled")

	// Two failed attempts of two allowed: final Failed.
	s2 := e.createV13(map[string]any{"numberOfClientAttemptsAllowed": 2})
	for i := 0; i < 2; i++ {
		require.Equal(t, http.StatusOK, e.attempt(s2["authToken"].(string), map[string]any{"errorCode": "FaceNotDetected"}).status)
	}
	info, _ = e.srv.Session(s2["sessionId"].(string))
	require.Equal(t, "Failed", info.Status)

	// Attempt input rules.
	for _, tc := range []struct {
		body    map[string]any
		mention string
	}{
		{map[string]any{"livenessDecision": "realface", "clientIp": "nope"}, "not an IP"},
		{map[string]any{"livenessDecision": "realface", "clientIp": "1.2.3.4", "clientIps": []string{"1.2.3.4"}}, "not both"},
		{map[string]any{"livenessDecision": "realface", "faceId": "f", "faceImage": []byte("x")}, "not both"},
		{map[string]any{"livenessDecision": "realface", "userCorrelationId": "other"}, "may not give another"},
	} {
		s := e.createV13(nil)
		r := e.attempt(s["authToken"].(string), tc.body)
		require.Equal(t, http.StatusBadRequest, r.status, "%v: %s", tc.body, r.body)
		require.Contains(t, r.message(t), tc.mention)
	}
	inClient := e.postJSON(livenessPathV13, map[string]any{"livenessOperationMode": "Passive", "deviceCorrelationId": "d", "userCorrelationIdSetInClient": true}).json(t)
	r = e.attempt(inClient["authToken"].(string), map[string]any{"livenessDecision": "realface"})
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Contains(t, r.message(t), "must give 'userCorrelationId'")
	v12 := e.createLiveness(nil)
	r = e.attempt(v12["authToken"].(string), map[string]any{"livenessDecision": "realface", "clientIp": "1.2.3.4"})
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Contains(t, r.message(t), "v1.2")
}

func TestV13ExpectedClientIP(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	s := e.createV13(map[string]any{"expectedClientIpAddress": "10.0.0.0/8"})
	r := e.attempt(s["authToken"].(string), map[string]any{"livenessDecision": "realface", "clientIp": "192.0.2.1"})
	require.Equal(t, http.StatusOK, r.status)
	var resp emulator.AttemptResponse
	require.NoError(t, json.Unmarshal(r.body, &resp))
	require.Contains(t, string(resp.Attempt), `"livenessDecision":"realface"`, "by default the IP is only recorded")
	require.Contains(t, string(resp.Attempt), `"ip":"192.0.2.1"`)

	strict := newEnv(t, emulator.Config{EnforceExpectedClientIP: true})
	s = strict.createV13(map[string]any{"expectedClientIpAddress": "10.0.0.0/8", "numberOfClientAttemptsAllowed": 2})
	r = strict.attempt(s["authToken"].(string), map[string]any{"livenessDecision": "realface", "clientIp": "192.0.2.1"})
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, string(r.body), "EmulatorClientIpMismatch")
	r = strict.attempt(s["authToken"].(string), map[string]any{"livenessDecision": "realface", "clientIp": "::ffff:10.1.1.1"})
	require.Contains(t, string(r.body), `"livenessDecision":"realface"`, "inside the CIDR")
}

func TestV13AbuseMonitoring(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, emulator.Config{Now: clock.Now, AbuseWindow: time.Hour, APIKeys: []string{testKey, "other-key"}})
	see := func(e *env, user, face string) (string, map[string]any) {
		s := e.createV13(map[string]any{"userCorrelationId": user})
		r := e.attempt(s["authToken"].(string), map[string]any{"livenessDecision": "realface", "faceId": face})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var resp emulator.AttemptResponse
		require.NoError(t, json.Unmarshal(r.body, &resp))
		var a map[string]any
		require.NoError(t, json.Unmarshal(resp.Attempt, &a))
		return s["sessionId"].(string), a["abuseMonitoringResult"].(map[string]any)
	}
	first, am := see(e, "alice", "face-1")
	require.Equal(t, false, am["isAbuseDetected"])
	_, am = see(e, "alice", "face-1")
	require.Equal(t, false, am["isAbuseDetected"], "the same user again is not abuse")
	_, am = see(e, "bob", "face-2")
	require.Equal(t, false, am["isAbuseDetected"], "another face")
	second, am := see(e, "bob", "face-1")
	require.Equal(t, true, am["isAbuseDetected"])
	flagged := am["otherFlaggedSessions"].([]any)
	require.Len(t, flagged, 2, "both of alice's sessions with that face")
	require.Equal(t, first, flagged[0].(map[string]any)["sessionId"])
	info, _ := e.srv.Session(second)
	require.True(t, info.AttemptLog[0].AbuseDetected)
	require.Equal(t, "id:face-1", info.AttemptLog[0].FaceKey)
	require.Equal(t, first, info.AttemptLog[0].FlaggedSessions[0].SessionID)

	// The same bytes are the same face.
	s := e.createV13(map[string]any{"userCorrelationId": "carol"})
	require.Equal(t, http.StatusOK, e.attempt(s["authToken"].(string), map[string]any{"livenessDecision": "realface", "faceImage": []byte("same bytes")}).status)
	s = e.createV13(map[string]any{"userCorrelationId": "dave"})
	r := e.attempt(s["authToken"].(string), map[string]any{"livenessDecision": "realface", "faceImage": []byte("same bytes")})
	require.Contains(t, string(r.body), `"isAbuseDetected":true`)

	// Outside the window nothing is flagged.
	clock.Advance(61 * time.Minute)
	_, am = see(e, "erin", "face-1")
	require.Equal(t, false, am["isAbuseDetected"])

	// Another key is another resource.
	other := &env{t: t, srv: e.srv, ts: e.ts, key: "other-key"}
	_, am = see(other, "frank", "face-1")
	require.Equal(t, false, am["isAbuseDetected"])

	// Monitoring off: the setting is snapshotted at create.
	before := e.createV13(map[string]any{"userCorrelationId": "gina"})
	r = e.do(http.MethodPatch, settingsPathV13, []byte(`{"livenessAbuseMonitoring":{"enabled":false}}`), "application/json")
	require.JSONEq(t, `{"livenessAbuseMonitoring":{"enabled":false}}`, string(r.body))
	after := e.createV13(map[string]any{"userCorrelationId": "hank"})
	require.Equal(t, false, after["isAbuseMonitoringEnabled"])
	r = e.attempt(after["authToken"].(string), map[string]any{"livenessDecision": "realface", "faceId": "face-1"})
	require.NotContains(t, string(r.body), "abuseMonitoringResult", "an unmonitored session has no verdict")
	r = e.attempt(before["authToken"].(string), map[string]any{"livenessDecision": "realface", "faceId": "face-1"})
	require.Contains(t, string(r.body), `"isAbuseDetected":true`, "created while monitoring was on (erin saw face-1 within the window)")

	off := newEnv(t, emulator.Config{AbuseMonitoringOffByDefault: true})
	require.JSONEq(t, `{"livenessAbuseMonitoring":{"enabled":false}}`, string(off.do(http.MethodGet, settingsPathV13, nil, "").body))
}

func TestV13Settings(t *testing.T) {
	e := newEnv(t, emulator.Config{APIKeys: []string{testKey, "other-key"}})
	get := func(key string) string {
		return string(e.do(http.MethodGet, settingsPathV13, nil, "", "Ocp-Apim-Subscription-Key", key).body)
	}
	require.JSONEq(t, `{"livenessAbuseMonitoring":{"enabled":true}}`, get(testKey))
	for _, tc := range []struct{ body, want string }{
		{`{"enabled":false}`, `false`},                           // the example's flat shape
		{`{}`, `false`},                                          // no enabled: unchanged
		{`{"livenessAbuseMonitoring":{}}`, `false`},              // idem
		{`{"livenessAbuseMonitoring":{"enabled":true}}`, `true`}, // the schema's shape
	} {
		r := e.do(http.MethodPatch, settingsPathV13, []byte(tc.body), "application/json")
		require.Equal(t, http.StatusOK, r.status, "%s: %s", tc.body, r.body)
		require.JSONEq(t, `{"livenessAbuseMonitoring":{"enabled":`+tc.want+`}}`, string(r.body), tc.body)
	}
	for _, body := range []string{`{"enabled":"yes"}`, `{"livenessAbuseMonitoring":true}`, `{"livenessAbuseMonitoring":{"enabled":1}}`, ``} {
		r := e.do(http.MethodPatch, settingsPathV13, []byte(body), "application/json")
		require.Equal(t, http.StatusBadRequest, r.status, body)
		require.Equal(t, "BadArgument", r.errorCode(t))
	}
	require.Equal(t, http.StatusUnsupportedMediaType, e.do(http.MethodPatch, settingsPathV13, []byte(`{}`), "text/plain").status)

	e.srv.SetAbuseMonitoring("key#1", false)
	require.JSONEq(t, `{"livenessAbuseMonitoring":{"enabled":false}}`, get("other-key"))
	require.JSONEq(t, `{"livenessAbuseMonitoring":{"enabled":true}}`, get(testKey), "per key")
	r := e.do(http.MethodGet, "/emulator/settings", nil, "")
	require.JSONEq(t, `{"settings":{"key#0":{"livenessAbuseMonitoring":{"enabled":true}},"key#1":{"livenessAbuseMonitoring":{"enabled":false}}}}`, string(r.body))
	r = e.do(http.MethodPut, "/emulator/settings/key%230", []byte(`{"livenessAbuseMonitoring":{"enabled":false}}`), "application/json")
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.False(t, e.srv.AbuseMonitoring("key#0"))
	require.Equal(t, http.StatusNotFound, e.do(http.MethodPut, "/emulator/settings/key%239", []byte(`{}`), "application/json").status)
	e.srv.Reset()
	require.True(t, e.srv.AbuseMonitoring("key#0"), "Reset restores the default")

	// v1.2 has no settings operation.
	r = e.do(http.MethodGet, "/face/v1.2/settings", nil, "")
	require.Equal(t, http.StatusNotFound, r.status)
	require.Contains(t, r.message(t), "only in v1.3-preview.1")
	// Wrong key: 401 as everywhere.
	require.Equal(t, http.StatusUnauthorized, e.do(http.MethodGet, settingsPathV13, nil, "", "Ocp-Apim-Subscription-Key", "nope").status)

	st := e.srv.Stats() // counted since the Reset above
	require.Equal(t, map[string]int64{"v1.2": 1, "v1.3-preview.1": 1}, st.ByAPIVersion)
	require.Equal(t, int64(1), st.ByOperation[emulator.OpGetSettings].Total)
}

func TestV13QuotaAndFaultsApply(t *testing.T) {
	e := newEnv(t, emulator.Config{Quota: emulator.Quota{RequestsPerMinute: 1}})
	require.Equal(t, http.StatusOK, e.do(http.MethodGet, settingsPathV13, nil, "").status)
	r := e.do(http.MethodGet, settingsPathV13, nil, "")
	require.Equal(t, http.StatusTooManyRequests, r.status)
	require.NotEmpty(t, r.header.Get("Retry-After"))

	f := newEnv(t, emulator.Config{Faults: emulator.Faults{ErrorRate503: 1}})
	require.Equal(t, http.StatusServiceUnavailable, f.postJSON(livenessPathV13, map[string]any{"livenessOperationMode": "Passive", "deviceCorrelationId": "d", "userCorrelationId": "u"}).status)
	require.Empty(t, f.srv.Sessions())
}

// AttemptRequest must stay comparable: callers (pkg/livenessclient's tests) use it as a map
// key, so the v1.3 fields are strings, not slices. This line stops compiling otherwise.
var _ = map[emulator.AttemptRequest]bool{}

func TestV13AttemptGoAPI(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	s := e.createV13(nil)
	resp, err := e.srv.Attempt(s["authToken"].(string), emulator.AttemptRequest{
		LivenessDecision: "realface", ClientIP: "10.0.0.1, 10.0.0.2", FaceImage: "\x00\xffbytes",
	})
	require.NoError(t, err)
	require.Contains(t, string(resp.Attempt), `"clientInformation":[{"ip":"10.0.0.1"},{"ip":"10.0.0.2"}]`)
	info, _ := e.srv.Session(resp.SessionID)
	require.Regexp(t, `^sha256:[0-9A-F]{64}$`, info.AttemptLog[0].FaceKey)
}
