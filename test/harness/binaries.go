package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RunWithBinaries is a TestMain body for packages that run the operator's binaries: it sets
// *dir to LIVENESS_BIN_DIR (make test builds them there) or, when unset, to a temporary folder
// with a fresh build of each named package (name -> package path), so a test never runs a stale
// binary by accident; then it runs the tests and removes what it built.
func RunWithBinaries(m *testing.M, dir *string, packages map[string]string) int {
	if *dir = os.Getenv("LIVENESS_BIN_DIR"); *dir != "" {
		return m.Run()
	}
	tmp, err := os.MkdirTemp("", "liveness-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	for name, pkg := range packages {
		cmd := exec.Command("go", "build", "-o", filepath.Join(tmp, name), pkg)
		cmd.Dir, cmd.Stdout, cmd.Stderr = RepoRoot(), os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build", name, err)
			return 1
		}
	}
	*dir = tmp
	return m.Run()
}
