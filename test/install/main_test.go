// Package install checks the ways a platform team installs the operator: kustomize
// (config/default and config/components) and the Helm chart (charts/liveness-operator). Every
// manifest is applied to a real kube-apiserver, and the real bin/manager runs a session under
// exactly the RBAC the chart renders.
package install

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// binDir holds bin/manager and bin/face-emulator: LIVENESS_BIN_DIR (make test builds them
// there) or, when unset, a fresh build into a temporary folder, so that the test runs the
// current code.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	binDir = os.Getenv("LIVENESS_BIN_DIR")
	if binDir == "" {
		dir, err := os.MkdirTemp("", "liveness-install-bin")
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
