// Package metrics runs the real manager binary through a session's whole life and checks its
// /metrics output against the shipped monitoring: every metric the Grafana dashboard and the
// PrometheusRules query must exist, and the histograms must have observations.
package metrics

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// binDir holds bin/manager and bin/face-emulator: LIVENESS_BIN_DIR (make test builds them
// there) or, when unset, a fresh build into a temporary folder, so the test never runs a stale
// binary by accident.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	binDir = os.Getenv("LIVENESS_BIN_DIR")
	if binDir == "" {
		dir, err := os.MkdirTemp("", "liveness-metrics-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		for name, pkg := range map[string]string{"manager": "./cmd/manager", "face-emulator": "./cmd/face-emulator"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
			cmd.Dir, cmd.Stdout, cmd.Stderr = harness.RepoRoot(), os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintln(os.Stderr, "build", name, err)
				return 1
			}
		}
		binDir = dir
	}
	return m.Run()
}
