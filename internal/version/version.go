// Package version says which build of the operator a binary is: the release version (stamped
// at link time, since nothing in the build can know it), the commit and the Go toolchain.
package version

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
)

// Version is the release this binary belongs to, set by the release build with
// -ldflags "-X github.com/liveness-operator/liveness-operator/internal/version.Version=v0.1.0".
// "dev" marks a build that no release produced (go build, go test, make build).
var Version = "dev"

// Commit is the commit the binary was built from, set with -X by builds that cannot rely on
// Go's VCS stamping: the release stamps it explicitly so the result does not depend on
// GOFLAGS=-buildvcs=false, and a Docker build has no .git to stamp from. Empty: the
// vcs.revision of the build info, or "unknown".
var Commit = ""

// Info is what --version prints.
type Info struct {
	// Version is the release version, or "dev".
	Version string `json:"version"`
	// Commit is the full commit hash, or "unknown".
	Commit string `json:"commit"`
	// Modified is true when the binary was built from a tree with uncommitted changes, as far
	// as the build info says (false when it does not know).
	Modified bool `json:"modified,omitempty"`
	// GoVersion is the toolchain that built the binary, e.g. go1.26.0.
	GoVersion string `json:"goVersion"`
	// Platform is GOOS/GOARCH.
	Platform string `json:"platform"`
}

// Get reads the stamped variables and the binary's build info.
func Get() Info {
	info := Info{Version: Version, Commit: Commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		info.GoVersion = bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Commit == "" {
					info.Commit = s.Value
				}
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	return info
}

// String is the one-line form the manager logs and --version prints first:
// "manager v0.1.0 (commit 8c5d29c..., go1.26.0, linux/amd64)".
func (i Info) String() string {
	commit := i.Commit
	if i.Modified {
		commit += "-modified"
	}
	return fmt.Sprintf("%s (commit %s, %s, %s)", i.Version, commit, i.GoVersion, i.Platform)
}

// KeysAndValues are the fields as logr key/value pairs, for a start-up log line.
func (i Info) KeysAndValues() []any {
	return []any{"version", i.Version, "commit", i.Commit, "modified", i.Modified, "goVersion", i.GoVersion, "platform", i.Platform}
}

// details are extra "key: value" lines of --version that packages linked into a binary add
// (internal/caroots reports the TLS roots), keyed by name.
var (
	detailsMu sync.Mutex
	details   = map[string]func() string{}
)

// AddDetail adds a line "key: value()" to --version's output. Packages call it from init, so
// the line shows exactly in the binaries that link them.
func AddDetail(key string, value func() string) {
	detailsMu.Lock()
	defer detailsMu.Unlock()
	details[key] = value
}

// Print writes --version's output: the one-line form, then one "key: value" line per detail.
func Print(w io.Writer, name string) {
	fmt.Fprintf(w, "%s %s\n", name, Get())
	detailsMu.Lock()
	defer detailsMu.Unlock()
	keys := make([]string, 0, len(details))
	for k := range details {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "%s: %s\n", k, details[k]())
	}
}

// Requested reports whether args (a command line without the program name) ask for the
// version: --version or -version before any "--". Checked before the binary's own flag
// parsing, so every binary answers it the same way whatever flag package it uses.
func Requested(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--version" || a == "-version" {
			return true
		}
	}
	return false
}

// ExitIfRequested prints the version and exits 0 when the process's arguments ask for it.
// It is the first line of each command's main, so --version works without a kubeconfig, a
// key or any other flag.
func ExitIfRequested(name string) {
	if Requested(os.Args[1:]) {
		Print(os.Stdout, name)
		os.Exit(0)
	}
}

// LDFlags are the -ldflags -X arguments that stamp a version and a commit into a binary
// (the release build and the Dockerfile use the same).
func LDFlags(version, commit string) string {
	pkg := "github.com/liveness-operator/liveness-operator/internal/version"
	return strings.Join([]string{"-X " + pkg + ".Version=" + version, "-X " + pkg + ".Commit=" + commit}, " ")
}
