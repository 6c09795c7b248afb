// Package metrics runs the real manager binary through a session's whole life and checks its
// /metrics output against the shipped monitoring: every metric the Grafana dashboard and the
// PrometheusRules query must exist, and the histograms must have observations.
package metrics

import (
	"os"
	"testing"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// binDir holds bin/manager and bin/face-emulator: LIVENESS_BIN_DIR (make test builds them
// there) or, when unset, a fresh build into a temporary folder, so the test never runs a stale
// binary by accident.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(harness.RunWithBinaries(m, &binDir, map[string]string{"manager": "./cmd/manager", "face-emulator": "./cmd/face-emulator"}))
}
