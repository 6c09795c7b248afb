// Package browser drives the example app server's page in headless Chromium (Debian's
// chromium, installed by hack/install-chromium.sh) against a real control plane, the Face
// emulator, the real manager binary and the real app server binary, and saves the
// screenshots that docs/app-server.md shows.
package browser

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// binDir holds bin/manager and bin/example-app-server: LIVENESS_BIN_DIR (make test builds them
// there) or, when unset, a fresh build into a temporary folder.
var binDir string

func TestMain(m *testing.M) {
	binDir = os.Getenv("LIVENESS_BIN_DIR")
	if binDir == "" {
		dir, err := os.MkdirTemp("", "liveness-browser-bin")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for name, pkg := range map[string]string{"manager": "./cmd/manager", "example-app-server": "./cmd/example-app-server"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
			cmd.Dir, cmd.Stdout, cmd.Stderr = harness.RepoRoot(), os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				fmt.Fprintln(os.Stderr, "build", name, err)
				os.RemoveAll(dir)
				os.Exit(1)
			}
		}
		binDir = dir
		code := m.Run()
		os.RemoveAll(dir)
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// chromiumPath finds Debian's chromium.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium is not installed: run hack/install-chromium.sh (make browser)")
	return ""
}
