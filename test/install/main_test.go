// Package install checks the ways a platform team installs the operator: kustomize
// (config/default and config/components) and the Helm chart (charts/liveness-operator). Every
// manifest is applied to a real kube-apiserver, and the real bin/manager runs a session under
// exactly the RBAC the chart renders.
package install

import (
	"os"
	"testing"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// binDir holds bin/manager and bin/face-emulator: LIVENESS_BIN_DIR (make test builds them
// there) or, when unset, a fresh build into a temporary folder, so that the test runs the
// current code.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(harness.RunWithBinaries(m, &binDir, map[string]string{"manager": "./cmd/manager", "face-emulator": "./cmd/face-emulator"}))
}
