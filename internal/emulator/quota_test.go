package emulator_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

const wantRateLimited1 = `{"error":{"code":"429","message":"Rate limit is exceeded. Try again in 1 seconds."}}`

func TestQuotaPerSecondWithBurst(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, emulator.Config{Now: clock.Now, Quota: emulator.Quota{RequestsPerSecond: 1, Burst: 2}})
	get := func() response { return e.do(http.MethodGet, livenessPath+"/x", nil, "") }
	require.Equal(t, http.StatusNotFound, get().status)
	require.Equal(t, http.StatusNotFound, get().status)
	r := get()
	require.Equal(t, http.StatusTooManyRequests, r.status)
	require.Equal(t, "1", r.header.Get("Retry-After"))
	require.JSONEq(t, wantRateLimited1, string(r.body))
	require.Equal(t, "429", r.header.Get("x-ms-error-code"))
	require.Zero(t, e.srv.Stats().RequestsInsideRetryAfter, "the throttled request itself was not inside a window")

	// A client that ignores Retry-After is counted.
	require.Equal(t, http.StatusTooManyRequests, get().status)
	clock.Advance(500 * time.Millisecond)
	require.Equal(t, http.StatusTooManyRequests, get().status)
	st := e.srv.Stats()
	require.Equal(t, int64(2), st.RequestsInsideRetryAfter)
	require.Equal(t, int64(2), st.RequestsInsideRetryAfterByKey["key#0"])
	require.Equal(t, int64(3), st.Throttled)
	require.Equal(t, int64(3), st.ByStatus["429"])

	// Waiting it out works and is not counted.
	clock.Advance(time.Second)
	require.Equal(t, http.StatusNotFound, get().status)
	require.Equal(t, int64(2), e.srv.Stats().RequestsInsideRetryAfter)

	m := e.do(http.MethodGet, "/emulator/stats", nil, "").json(t)
	require.Equal(t, 2.0, m["requestsInsideRetryAfter"])
}

func TestQuotaIsPerKey(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, emulator.Config{Now: clock.Now, APIKeys: []string{"a", "b"}, Quota: emulator.Quota{RequestsPerSecond: 1}})
	require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, livenessPath+"/x", nil, "").status)
	require.Equal(t, http.StatusTooManyRequests, e.do(http.MethodGet, livenessPath+"/x", nil, "").status)
	require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, livenessPath+"/x", nil, "", "Ocp-Apim-Subscription-Key", "b").status)
	require.Zero(t, e.srv.Stats().RequestsInsideRetryAfterByKey["key#1"])
}

func TestQuotaPerMinute(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, emulator.Config{Now: clock.Now, Quota: emulator.Quota{RequestsPerMinute: 20}})
	for i := range 20 {
		require.Equal(t, http.StatusOK, e.postJSON(livenessPath, validCreate()).status, "request %d", i)
		clock.Advance(time.Second)
	}
	r := e.postJSON(livenessPath, validCreate())
	require.Equal(t, http.StatusTooManyRequests, r.status)
	require.Equal(t, "40", r.header.Get("Retry-After"), "window opened 20s ago")
	require.Contains(t, r.message(t), "Try again in 40 seconds.")
	require.Len(t, e.srv.Sessions(), 20, "a throttled create stores nothing")
	clock.Advance(40 * time.Second)
	require.Equal(t, http.StatusOK, e.postJSON(livenessPath, validCreate()).status)
}

func TestQuotaChangeAtRuntime(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, emulator.Config{Now: clock.Now})
	r := e.do(http.MethodPut, "/emulator/quota", []byte(`{"requestsPerSecond":2,"burst":1}`), "application/json")
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.Equal(t, emulator.Quota{RequestsPerSecond: 2, Burst: 1}, e.srv.Quota())
	require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, livenessPath+"/x", nil, "").status)
	r = e.do(http.MethodGet, livenessPath+"/x", nil, "")
	require.Equal(t, http.StatusTooManyRequests, r.status)
	require.Equal(t, "1", r.header.Get("Retry-After"), "0.5s wait rounds up to 1")

	require.NoError(t, e.srv.SetQuota(emulator.Quota{}))
	for range 10 {
		require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, livenessPath+"/x", nil, "").status)
	}
	require.Equal(t, int64(10), e.srv.Stats().RequestsInsideRetryAfter,
		"requests inside the window still count after the quota is lifted")

	for _, bad := range []string{`{"requestsPerSecond":-1}`, `{"burst":-1}`, `{"requestsPerMinute":-5}`, `{"rps":3}`, `nope`} {
		r := e.do(http.MethodPut, "/emulator/quota", []byte(bad), "application/json")
		require.Equal(t, http.StatusBadRequest, r.status, bad)
	}
	require.Error(t, e.srv.SetQuota(emulator.Quota{RequestsPerSecond: -1}))
}
