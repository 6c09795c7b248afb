package emulator_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

func TestFault500And503(t *testing.T) {
	e := newEnv(t, emulator.Config{Faults: emulator.Faults{ErrorRate500: 1}})
	r := e.postJSON(livenessPath, validCreate())
	require.Equal(t, http.StatusInternalServerError, r.status)
	require.Equal(t, "InternalServerError", r.errorCode(t))
	require.Empty(t, e.srv.Sessions(), "an injected error runs nothing")

	require.NoError(t, e.srv.SetFaults(emulator.Faults{ErrorRate503: 1, RetryAfter503: 2}))
	r = e.postJSON(livenessPath, validCreate())
	require.Equal(t, http.StatusServiceUnavailable, r.status)
	require.Equal(t, "ServiceUnavailable", r.errorCode(t))
	require.Equal(t, "2", r.header.Get("Retry-After"))

	st := e.srv.Stats()
	require.Equal(t, int64(1), st.Faults.Injected500)
	require.Equal(t, int64(1), st.Faults.Injected503)
	require.Zero(t, st.RequestsInsideRetryAfter)

	// The 503's Retry-After is a window too: a client that retries at once is counted.
	require.NoError(t, e.srv.SetFaults(emulator.Faults{}))
	require.Equal(t, http.StatusOK, e.postJSON(livenessPath, validCreate()).status)
	require.Equal(t, int64(1), e.srv.Stats().RequestsInsideRetryAfter)

	// Faults never touch the side door.
	require.Equal(t, http.StatusOK, e.do(http.MethodGet, "/emulator/sessions", nil, "").status)
}

func TestFaultRatesAreSeededAndProportional(t *testing.T) {
	run := func(seed uint64) []int {
		e := newEnv(t, emulator.Config{Seed: seed, Faults: emulator.Faults{ErrorRate500: 0.2, ErrorRate503: 0.3}})
		var out []int
		for range 200 {
			out = append(out, e.do(http.MethodGet, livenessPath+"/x", nil, "").status)
		}
		return out
	}
	a, b := run(42), run(42)
	require.Equal(t, a, b, "same seed, same sequence")
	require.NotEqual(t, a, run(43))
	counts := map[int]int{}
	for _, s := range a {
		counts[s]++
	}
	require.InDelta(t, 40, counts[500], 20)
	require.InDelta(t, 60, counts[503], 25)
	require.InDelta(t, 100, counts[404], 30)
}

func TestFaultLatency(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	r := e.do(http.MethodPut, "/emulator/faults", []byte(`{"latency":"150ms"}`), "application/json")
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.Equal(t, 150*time.Millisecond, e.srv.Faults().Latency)
	start := time.Now()
	require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, livenessPath+"/x", nil, "").status)
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)

	start = time.Now()
	require.Equal(t, http.StatusOK, e.do(http.MethodGet, "/emulator/stats", nil, "").status)
	require.Less(t, time.Since(start), 150*time.Millisecond, "no latency on /emulator/*")
	require.Equal(t, int64(1), e.srv.Stats().Faults.Delayed)

	// Numbers are milliseconds.
	r = e.do(http.MethodPut, "/emulator/faults", []byte(`{"latency":20,"latencyJitter":"5ms"}`), "application/json")
	require.Equal(t, http.StatusOK, r.status)
	require.Equal(t, emulator.Faults{Latency: 20 * time.Millisecond, LatencyJitter: 5 * time.Millisecond}, e.srv.Faults())
	require.JSONEq(t, `{"errorRate500":0,"errorRate503":0,"retryAfter503Seconds":0,"latency":"20ms","latencyJitter":"5ms","dropRate":0,"commitThenDropRate":0}`,
		string(e.do(http.MethodGet, "/emulator/faults", nil, "").body))
}

func TestFaultDrop(t *testing.T) {
	e := newEnv(t, emulator.Config{Faults: emulator.Faults{DropRate: 1}})
	_, err := e.send(http.MethodPost, livenessPath, []byte(`{"livenessOperationMode":"Passive","deviceCorrelationId":"d"}`), "application/json")
	require.Error(t, err, "the client gets no response")
	require.Empty(t, e.srv.Sessions(), "a dropped request runs nothing")
	st := e.srv.Stats()
	require.Equal(t, int64(1), st.Faults.Dropped)
	require.Equal(t, int64(1), st.ByStatus[emulator.StatusDropped])
}

func TestFaultCommitThenDrop(t *testing.T) {
	e := newEnv(t, emulator.Config{Faults: emulator.Faults{CommitThenDropRate: 1}})
	_, err := e.send(http.MethodPost, livenessPath, []byte(`{"livenessOperationMode":"Passive","deviceCorrelationId":"dev-42"}`), "application/json")
	require.Error(t, err, "the client gets no response")
	sessions := e.srv.Sessions()
	require.Len(t, sessions, 1, "the session was committed")
	require.True(t, sessions[0].ResponseDropped)
	require.Equal(t, "dev-42", sessions[0].DeviceCorrelationID)

	body, ct := multipartBody(t, validVerifyParts(noisyPNG(t, 64, 64)))
	_, err = e.send(http.MethodPost, verifyPath, body, ct)
	require.Error(t, err)
	require.Len(t, e.srv.Sessions(), 2)
	require.Equal(t, int64(2), e.srv.Stats().Faults.CommitThenDropped)

	// Only creates are affected; the committed session is really there.
	r := e.do(http.MethodGet, livenessPath+"/"+sessions[0].SessionID, nil, "")
	require.Equal(t, http.StatusOK, r.status)
	inv := e.do(http.MethodGet, "/emulator/sessions", nil, "").json(t)
	require.Equal(t, true, path(t, inv, "sessions", 0, "responseDropped"))
}

func TestFaultValidation(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	for _, bad := range []string{
		`{"errorRate500":1.5}`, `{"errorRate503":-0.1}`, `{"errorRate500":0.6,"errorRate503":0.6}`,
		`{"latency":"soon"}`, `{"dropRate":"x"}`, `{"errorRate":0.1}`, `{"retryAfter503Seconds":-1}`,
	} {
		r := e.do(http.MethodPut, "/emulator/faults", []byte(bad), "application/json")
		require.Equal(t, http.StatusBadRequest, r.status, bad)
		require.Equal(t, "BadArgument", r.errorCode(t))
	}
	require.Error(t, e.srv.SetFaults(emulator.Faults{DropRate: 2}))
	require.Equal(t, emulator.Faults{}, e.srv.Faults())
}
