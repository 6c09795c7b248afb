package emulator_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// TestConcurrentUse drives every kind of request at once so that -race sees the
// store, session, stats, quota and fault paths interleave.
func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, emulator.Config{Quota: emulator.Quota{RequestsPerSecond: 1e6, Burst: 1000}})
	const workers, rounds = 8, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				created := e.createLiveness(map[string]any{"enableSessionImage": true})
				id, token := created["sessionId"].(string), created["authToken"].(string)
				r := e.attempt(token, map[string]any{"livenessDecision": "realface"})
				require.Equal(t, http.StatusOK, r.status)
				img := r.json(t)["sessionImageId"].(string)
				require.Equal(t, http.StatusOK, e.do(http.MethodGet, livenessPath+"/"+id, nil, "").status)
				if (w+i)%3 == 0 {
					require.Equal(t, http.StatusOK, e.detect("", map[string]any{"sessionImageId": img}).status)
				}
				require.Equal(t, http.StatusNoContent, e.do(http.MethodDelete, livenessPath+"/"+id, nil, "").status)
				if i%10 == 0 {
					_ = e.srv.Sessions()
					_ = e.srv.Stats()
					require.NoError(t, e.srv.SetFaults(emulator.Faults{}))
				}
			}
		}()
	}
	wg.Wait()
	require.Len(t, e.srv.Sessions(), workers*rounds)
	st := e.srv.Stats()
	require.Equal(t, int64(workers*rounds), st.ByOperation[emulator.OpDeleteLivenessSession].ByStatus["204"])
}
