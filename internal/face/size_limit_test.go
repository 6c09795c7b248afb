package face

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// endlessBody answers 200 with a body that never ends, as a hostile endpoint would.
func endlessBody(contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(http.StatusOK)
		chunk := make([]byte, 64<<10)
		for i := range chunk {
			chunk[i] = 'a'
		}
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

// TestEndlessBodiesAreCutAtTheCap: an endpoint answering an endless body costs a clear error
// after the cap (1 MiB of JSON, 8 MiB of image), not the manager's memory.
func TestEndlessBodiesAreCutAtTheCap(t *testing.T) {
	for _, tc := range []struct {
		name string
		ct   string
		call func(c *HTTPClient) error
	}{
		{"json", "application/json", func(c *HTTPClient) error {
			_, err := c.GetLivenessSessionResult(context.Background(), "s1")
			return err
		}},
		{"image", "application/octet-stream", func(c *HTTPClient) error {
			_, err := c.GetSessionImage(context.Background(), "img1")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(endlessBody(tc.ct))
			defer srv.Close()
			c := newTestClient(t, srv.URL, func(o *Options) { o.Timeout = 20 * time.Second; o.MaxRetries = -1 })
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			err := tc.call(c)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrResponseTooLarge), "got %v", err)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "bytes allocated reading the answer")
		})
	}
}
