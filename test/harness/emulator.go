package harness

import (
	"net/http/httptest"
	"testing"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// TestAPIKey is the Face key the test emulators accept.
const TestAPIKey = "test-face-key-0123456789abcdef"

// Emulator is a Face emulator served over loopback.
type Emulator struct {
	*emulator.Server
	// URL is the endpoint to give the Face client (without /face/v1.2).
	URL string
}

// StartEmulator serves a Face emulator on a loopback port until the test ends. With no keys
// in cfg it accepts TestAPIKey.
func StartEmulator(t testing.TB, cfg emulator.Config) *Emulator {
	t.Helper()
	if len(cfg.APIKeys) == 0 && len(cfg.BearerTokens) == 0 {
		cfg.APIKeys = []string{TestAPIKey}
	}
	srv := emulator.New(cfg)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &Emulator{Server: srv, URL: hs.URL}
}

// SessionsFor lists the emulator's sessions created for a device correlation id: tests give
// every resource its own id, so this is the resource's cloud sessions.
func (e *Emulator) SessionsFor(deviceCorrelationID string) []emulator.SessionInfo {
	var out []emulator.SessionInfo
	for _, s := range e.Sessions() {
		if s.DeviceCorrelationID == deviceCorrelationID {
			out = append(out, s)
		}
	}
	return out
}
