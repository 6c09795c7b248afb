package emulator_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

func TestCreateGetDeleteLiveness(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	created := e.createLiveness(map[string]any{"authTokenTimeToLiveInSeconds": 60})
	id := created["sessionId"].(string)
	require.Regexp(t, uuidRE, id)
	require.NotEmpty(t, created["authToken"])
	require.Equal(t, "NotStarted", created["status"])
	require.Equal(t, "2024-11-15", created["modelVersion"])
	require.Equal(t, map[string]any{"attempts": []any{}}, created["results"])
	require.ElementsMatch(t, []string{"sessionId", "authToken", "status", "modelVersion", "results"}, keys(created))

	got := e.do(http.MethodGet, livenessPath+"/"+id, nil, "")
	require.Equal(t, http.StatusOK, got.status)
	require.Equal(t, "application/json; charset=utf-8", got.header.Get("Content-Type"))
	require.Equal(t, created, got.json(t))

	del := e.do(http.MethodDelete, livenessPath+"/"+id, nil, "")
	require.Equal(t, http.StatusNoContent, del.status)
	require.Empty(t, del.body)

	require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, livenessPath+"/"+id, nil, "").status)
	again := e.do(http.MethodDelete, livenessPath+"/"+id, nil, "")
	require.Equal(t, http.StatusNotFound, again.status)
	require.Equal(t, "SessionNotFound", again.errorCode(t))

	info, ok := e.srv.Session(id)
	require.True(t, ok, "deleted sessions stay in the inventory")
	require.True(t, info.Deleted)
	require.NotNil(t, info.DeletedDateTime)
	require.Equal(t, "key#0", info.APIKey)
	require.Equal(t, "liveness", info.Kind)
	require.Equal(t, "device-1", info.DeviceCorrelationID)
	require.Equal(t, 60, info.AuthTokenTTLSeconds)
	require.Equal(t, info.CreatedDateTime.Add(60*time.Second), info.AuthTokenExpiresAt)
}

func TestCreateGetDeleteWithVerify(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	img := noisyPNG(t, 640, 480)
	r := e.createVerify(validVerifyParts(img))
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	created := r.json(t)
	id := created["sessionId"].(string)
	require.Equal(t, "NotStarted", created["status"])
	require.Equal(t, "2024-11-15", created["modelVersion"])
	results := created["results"].(map[string]any)
	require.Equal(t, []any{}, results["attempts"])
	refs := results["verifyReferences"].([]any)
	require.Len(t, refs, 1)
	ref := refs[0].(map[string]any)
	require.Equal(t, "Color", ref["referenceType"])
	require.Equal(t, "medium", ref["qualityForRecognition"], "short side 480 is medium")
	// Centred box: 3/5 of the short side wide, 5/4 as tall.
	require.Equal(t, map[string]any{"top": 60.0, "left": 176.0, "width": 288.0, "height": 360.0}, ref["faceRectangle"])

	got := e.do(http.MethodGet, verifyPath+"/"+id, nil, "")
	require.Equal(t, http.StatusOK, got.status)
	require.Equal(t, created, got.json(t))

	// The two kinds are separate namespaces.
	require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, livenessPath+"/"+id, nil, "").status)
	require.Equal(t, http.StatusNotFound, e.do(http.MethodDelete, livenessPath+"/"+id, nil, "").status)

	del := e.do(http.MethodDelete, verifyPath+"/"+id, nil, "")
	require.Equal(t, http.StatusNoContent, del.status)
	require.Empty(t, del.body)
	require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, verifyPath+"/"+id, nil, "").status)
	info, ok := e.srv.Session(id)
	require.True(t, ok)
	require.Equal(t, "livenessWithVerify", info.Kind)
	require.True(t, info.Deleted)
}

func TestVerifyReferenceQuality(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	for _, tc := range []struct {
		w, h int
		want string
	}{{150, 300, "low"}, {300, 300, "medium"}, {800, 600, "high"}} {
		r := e.createVerify(validVerifyParts(noisyPNG(t, tc.w, tc.h)))
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Equal(t, tc.want, path(t, r.json(t), "results", "verifyReferences", 0, "qualityForRecognition"), "%dx%d", tc.w, tc.h)
	}
}

func TestUnknownSessionIs404(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	for _, p := range []string{livenessPath + "/nope", verifyPath + "/nope"} {
		for _, m := range []string{http.MethodGet, http.MethodDelete} {
			r := e.do(m, p, nil, "")
			require.Equal(t, http.StatusNotFound, r.status)
			require.Equal(t, "SessionNotFound", r.errorCode(t))
			require.Contains(t, r.message(t), "nope")
		}
	}
}

func TestUnknownRoutes(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	for _, tc := range []struct{ method, path, hint string }{
		{http.MethodPut, livenessPath, ""},
		{http.MethodGet, verifyPath, "no list-sessions"},
		{http.MethodPost, "/face/v1.2/detectLiveness/singleModal/sessions", "pre-GA"},
		{http.MethodGet, "/face/v1.1-preview.1/detectLiveness-sessions/x", "only /face/v1.2/"},
		{http.MethodGet, livenessPath + "/a/b", ""},
		{http.MethodGet, "/", ""},
	} {
		r := e.do(tc.method, tc.path, nil, "")
		require.Equal(t, http.StatusNotFound, r.status, "%s %s", tc.method, tc.path)
		require.Equal(t, "404", r.errorCode(t))
		require.Contains(t, r.message(t), tc.hint)
	}
}

func TestEveryResponseHasRequestID(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	created := e.createLiveness(nil)
	id := created["sessionId"].(string)
	seen := map[string]bool{}
	for _, r := range []response{
		e.do(http.MethodGet, livenessPath+"/"+id, nil, ""),
		e.do(http.MethodGet, livenessPath+"/missing", nil, ""),
		e.do(http.MethodGet, livenessPath+"/"+id, nil, "", "Ocp-Apim-Subscription-Key", "wrong"),
		e.do(http.MethodDelete, livenessPath+"/"+id, nil, ""),
		e.do(http.MethodGet, "/emulator/stats", nil, ""),
	} {
		rid := r.header.Get("apim-request-id")
		require.Regexp(t, uuidRE, rid)
		require.False(t, seen[rid], "request ids are unique")
		seen[rid] = true
	}
}

func TestSessionExpiresAfterLifetime(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, emulator.Config{Now: clock.Now})
	id := e.createLiveness(nil)["sessionId"].(string)
	clock.Advance(47 * time.Hour)
	require.Equal(t, http.StatusOK, e.do(http.MethodGet, livenessPath+"/"+id, nil, "").status)
	clock.Advance(time.Hour)
	r := e.do(http.MethodGet, livenessPath+"/"+id, nil, "")
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, "SessionNotFound", r.errorCode(t))
	require.Equal(t, http.StatusNotFound, e.do(http.MethodDelete, livenessPath+"/"+id, nil, "").status)
	info, ok := e.srv.Session(id)
	require.True(t, ok)
	require.True(t, info.Expired)
	require.False(t, info.Deleted)
}

func TestSessionLifetimeConfigurable(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, emulator.Config{Now: clock.Now, SessionLifetime: time.Minute})
	id := e.createLiveness(nil)["sessionId"].(string)
	clock.Advance(59 * time.Second)
	require.Equal(t, http.StatusOK, e.do(http.MethodGet, livenessPath+"/"+id, nil, "").status)
	clock.Advance(time.Second)
	require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, livenessPath+"/"+id, nil, "").status)
}

func TestInventoryEndpoint(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, emulator.Config{Now: clock.Now, APIKeys: []string{"k0", "k1"}})
	a := e.createLiveness(map[string]any{"enableSessionImage": true})["sessionId"].(string)
	clock.Advance(time.Second)
	e.key = "k1"
	b := e.createVerify(validVerifyParts(noisyPNG(t, 100, 100))).json(t)["sessionId"].(string)
	require.Equal(t, http.StatusNoContent, e.do(http.MethodDelete, livenessPath+"/"+a, nil, "").status)

	r := e.do(http.MethodGet, "/emulator/sessions", nil, "", "Ocp-Apim-Subscription-Key", "")
	require.Equal(t, http.StatusOK, r.status)
	list := r.json(t)["sessions"].([]any)
	require.Len(t, list, 2)
	first, second := list[0].(map[string]any), list[1].(map[string]any)
	require.Equal(t, a, first["sessionId"])
	require.Equal(t, "liveness", first["kind"])
	require.Equal(t, true, first["deleted"])
	require.Equal(t, "key#0", first["apiKey"])
	require.Equal(t, false, first["responseDropped"])
	require.Equal(t, "device-1", first["deviceCorrelationId"])
	require.Equal(t, "2025-03-01T12:00:00Z", first["createdDateTime"])
	require.Equal(t, "2025-03-01T12:10:00Z", first["authTokenExpiresAt"])
	require.Equal(t, b, second["sessionId"])
	require.Equal(t, "livenessWithVerify", second["kind"])
	require.Equal(t, "key#1", second["apiKey"])
	require.Equal(t, 0.5, second["verifyConfidenceThreshold"])
	require.NotContains(t, string(r.body), "k1\"", "the key itself is never shown")

	one := e.do(http.MethodGet, "/emulator/sessions/"+b, nil, "")
	require.Equal(t, http.StatusOK, one.status)
	require.Equal(t, b, one.json(t)["sessionId"])
	require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "/emulator/sessions/none", nil, "").status)
	require.Len(t, e.srv.Sessions(), 2)
}

func TestInventoryLimitForgetsOldestDeleted(t *testing.T) {
	e := newEnv(t, emulator.Config{InventoryLimit: 2})
	var ids []string
	for range 7 {
		id := e.createLiveness(nil)["sessionId"].(string)
		require.Equal(t, http.StatusNoContent, e.do(http.MethodDelete, livenessPath+"/"+id, nil, "").status)
		ids = append(ids, id)
	}
	live := e.createLiveness(nil)["sessionId"].(string)
	for _, id := range ids[:5] {
		_, ok := e.srv.Session(id)
		require.False(t, ok, "older deleted sessions are forgotten")
	}
	for _, id := range append(ids[5:], live) {
		_, ok := e.srv.Session(id)
		require.True(t, ok, "the newest deleted sessions and live ones stay")
	}
	require.Len(t, e.srv.Sessions(), 3)
}

func TestReset(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	e.createLiveness(nil)
	r := e.do(http.MethodPost, "/emulator/reset", nil, "")
	require.Equal(t, http.StatusNoContent, r.status)
	require.Empty(t, e.srv.Sessions())
	require.Zero(t, e.srv.Stats().TotalRequests)
}

func TestHealth(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	r := e.do(http.MethodGet, "/emulator/health", nil, "", "Ocp-Apim-Subscription-Key", "")
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, "ok", r.json(t)["status"])
}

func TestStatsCountPerOperationAndStatus(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	id := e.createLiveness(nil)["sessionId"].(string)
	e.do(http.MethodGet, livenessPath+"/"+id, nil, "")
	e.do(http.MethodGet, livenessPath+"/missing", nil, "")
	e.do(http.MethodDelete, livenessPath+"/"+id, nil, "")
	e.do(http.MethodGet, livenessPath+"/"+id, nil, "", "Ocp-Apim-Subscription-Key", "bad")
	e.do(http.MethodGet, "/emulator/sessions", nil, "") // not counted

	r := e.do(http.MethodGet, "/emulator/stats", nil, "")
	require.Equal(t, http.StatusOK, r.status)
	m := r.json(t)
	require.Equal(t, 5.0, m["totalRequests"])
	require.Equal(t, map[string]any{"200": 2.0, "204": 1.0, "404": 1.0, "401": 1.0}, m["byStatus"])
	get := path(t, m, "byOperation", "GetLivenessSessionResult").(map[string]any)
	require.Equal(t, 3.0, get["total"])
	require.Equal(t, map[string]any{"200": 1.0, "404": 1.0, "401": 1.0}, get["byStatus"])
	require.Equal(t, e.srv.Stats().TotalRequests, int64(5))
	require.Equal(t, int64(1), e.srv.Stats().ByOperation[emulator.OpCreateLivenessSession].ByStatus["200"])
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
