package harness

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FreeAddr is a loopback address with a port that was free a moment ago, for a process that
// must be told its port in advance (a metrics endpoint a test scrapes).
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// ProcessRSS is a process's resident memory in bytes (/proc/<pid>/status VmRSS).
func ProcessRSS(pid int) (uint64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// StartProcess runs the binary at path with exactly the environment env until the test ends,
// and returns its combined output and the running command (for its pid). The output is shown
// when the test fails.
func StartProcess(t testing.TB, env []string, path string, args ...string) (*SyncBuffer, *exec.Cmd) {
	t.Helper()
	out := &SyncBuffer{}
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(path), out.String())
		}
	})
	return out, cmd
}

// EmulatorURL waits for the face-emulator's first line, "face-emulator listening on
// http://...", in its output and returns the URL (only once the line is complete, so a URL
// still being written is never cut short).
func EmulatorURL(t testing.TB, out *SyncBuffer) string {
	t.Helper()
	var url string
	Eventually(t, 20*time.Second, func() string {
		s := out.String()
		if i := strings.Index(s, "http://"); i >= 0 {
			if line, _, complete := strings.Cut(s[i:], "\n"); complete {
				url = strings.Fields(line)[0]
				return ""
			}
		}
		return "the emulator has not printed its URL"
	})
	return url
}
