package emulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// BenchmarkCreateGetDelete measures full create+get+delete cycles of liveness
// sessions through the real HTTP handler over loopback, with a keep-alive client and
// parallel callers, so the figure includes HTTP parsing, JSON and locking. It reports
// cycles/s; the emulator must stay far above what any test drives (>= 5,000/s on 2
// cores). Run:
//
//	go test ./internal/emulator/ -run '^$' -bench CreateGetDelete -benchtime 3s -cpu 2
func BenchmarkCreateGetDelete(b *testing.B) {
	srv := emulator.New(emulator.Config{APIKeys: []string{testKey}})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	body := []byte(`{"livenessOperationMode":"Passive","deviceCorrelationId":"bench-device","authTokenTimeToLiveInSeconds":600}`)

	do := func(method, url string, payload []byte, want int) ([]byte, error) {
		var rd io.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		req, err := http.NewRequest(method, url, rd)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Ocp-Apim-Subscription-Key", testKey)
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != want {
			return nil, fmt.Errorf("%s %s: status %d: %s", method, url, resp.StatusCode, out)
		}
		return out, nil
	}

	b.SetParallelism(8) // 8 callers per GOMAXPROCS: enough to keep both cores busy
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var created struct {
			SessionID string `json:"sessionId"`
		}
		for pb.Next() {
			out, err := do(http.MethodPost, ts.URL+livenessPath, body, http.StatusOK)
			if err != nil {
				b.Error(err)
				return
			}
			if err := json.Unmarshal(out, &created); err != nil {
				b.Error(err)
				return
			}
			u := ts.URL + livenessPath + "/" + created.SessionID
			if _, err := do(http.MethodGet, u, nil, http.StatusOK); err != nil {
				b.Error(err)
				return
			}
			if _, err := do(http.MethodDelete, u, nil, http.StatusNoContent); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
}

// BenchmarkCreateGetDeleteHandler calls the handler directly (no sockets), isolating
// the emulator's own cost per cycle from net/http and loopback syscalls.
func BenchmarkCreateGetDeleteHandler(b *testing.B) {
	srv := emulator.New(emulator.Config{APIKeys: []string{testKey}})
	body := []byte(`{"livenessOperationMode":"Passive","deviceCorrelationId":"bench-device"}`)
	serve := func(method, target string, payload []byte) *httptest.ResponseRecorder {
		var rd io.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		req := httptest.NewRequest(method, target, rd)
		req.Header.Set("Ocp-Apim-Subscription-Key", testKey)
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var created struct {
			SessionID string `json:"sessionId"`
		}
		for pb.Next() {
			rec := serve(http.MethodPost, livenessPath, body)
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &created) != nil {
				b.Errorf("create: %d %s", rec.Code, rec.Body)
				return
			}
			if rec = serve(http.MethodGet, livenessPath+"/"+created.SessionID, nil); rec.Code != http.StatusOK {
				b.Errorf("get: %d", rec.Code)
				return
			}
			if rec = serve(http.MethodDelete, livenessPath+"/"+created.SessionID, nil); rec.Code != http.StatusNoContent {
				b.Errorf("delete: %d", rec.Code)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cycles/s")
}
