package release

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/liveness-operator/liveness-operator/internal/version"
)

// Binaries are the built executables: image name -> platform -> path.
type Binaries map[string]map[Platform]string

// GoBuildFlags are the go build flags of every release binary (the Dockerfile uses the same):
// -trimpath keeps the build folder out of the binary; -buildvcs=false because the commit is
// stamped explicitly (version.Commit), so the output does not depend on GOFLAGS or on
// uncommitted files Go's VCS stamping would flag; -s -w drop the symbol table and DWARF
// (the build info that --version and the SBOM read stays).
func GoBuildFlags(versionString, commit string) []string {
	return []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w " + version.LDFlags(versionString, commit)}
}

// BuildBinaries cross-compiles each image's package for each platform into dir, static
// (CGO_ENABLED=0) so the image needs no libc.
func BuildBinaries(ctx context.Context, o Options, dir string) (Binaries, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	bins := Binaries{}
	for _, img := range Images {
		bins[img.Name] = map[Platform]string{}
		for _, p := range o.Platforms {
			out := filepath.Join(dir, p.OS+"-"+p.Arch, img.Binary)
			o.logf("go build %s for %s", img.Package, p)
			args := append([]string{"build", "-o", out}, GoBuildFlags(o.Version, o.Commit)...)
			cmd := exec.CommandContext(ctx, "go", append(args, img.Package)...)
			cmd.Dir = o.Root
			cmd.Env = append(buildEnv(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch)
			if out, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("go build %s for %s: %w\n%s", img.Package, p, err, out)
			}
			bins[img.Name][p] = out
		}
	}
	return bins, nil
}

// buildEnv is the environment without the variables the release sets itself, nor GOFLAGS
// and friends that would change the binaries from one machine to another.
func buildEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "CGO_ENABLED", "GOOS", "GOARCH", "GOFLAGS", "GOAMD64", "GOARM64", "GOEXPERIMENT", "CGO_CFLAGS", "CGO_LDFLAGS":
			continue
		}
		env = append(env, kv)
	}
	return env
}
