package perf

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// managerBinary is bin/manager (LIVENESS_BIN_DIR overrides bin/), built on the fly when
// missing so a bare 'go test -bench' works too. make bench builds it first.
func managerBinary(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("LIVENESS_BIN_DIR")
	if dir == "" {
		dir = filepath.Join(harness.RepoRoot(), "bin")
	}
	bin := filepath.Join(dir, "manager")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	bin = filepath.Join(tb.TempDir(), "manager")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/manager")
	cmd.Dir = harness.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build manager: %v\n%s", err, out)
	}
	return bin
}

// managerProc runs the real bin/manager as a child process and can SIGKILL and restart it.
// Its metrics port is fixed for the benchmark so every incarnation can be scraped at the same
// address; its log goes to a file, appended across restarts.
type managerProc struct {
	bin, kubeconfig, endpoint, apiKey string
	metricsAddr, probeAddr, pprofAddr string
	logPath                           string
	extraArgs                         []string

	mu     sync.Mutex
	cmd    *exec.Cmd
	log    *os.File
	starts int
}

// newManager prepares a manager for the cluster and Face endpoint; start runs it.
func newManager(tb testing.TB, c *cluster, endpoint, apiKey string, s scale) *managerProc {
	tb.Helper()
	return newNamedManager(tb, c, endpoint, apiKey, s, "manager")
}

// newNamedManager is newManager for one of several replicas: name keeps their logs apart
// (<name>.log in the cluster's folder and in reports/raw).
func newNamedManager(tb testing.TB, c *cluster, endpoint, apiKey string, s scale, name string) *managerProc {
	tb.Helper()
	m := &managerProc{
		bin: managerBinary(tb), kubeconfig: c.OperatorKubeconfig, endpoint: endpoint, apiKey: apiKey,
		metricsAddr: freeAddr(tb), probeAddr: freeAddr(tb), pprofAddr: freeAddr(tb), logPath: filepath.Join(c.Dir, name+".log"),
	}
	// These scenarios measure the operator against an emulator with no quota, so the default
	// account's limiter (S0, 10/s, by default) must not be what is measured; the quota scenario (scenario_quota_test.go) measures
	// quota behaviour. Later flags (LIVENESS_PERF_MANAGER_ARGS) override these.
	m.extraArgs = append([]string{"--face-requests-per-second=100000", "--face-burst=100000",
		"--operator-namespace=" + perfNamespace, "--metrics-secure=false"}, s.ManagerArgs...)
	tb.Cleanup(func() {
		m.stop()
		keepRaw(tb, m.logPath, name+".log")
	})
	return m
}

// start launches a new incarnation; it does not wait for it to serve (see waitServing), so a
// crash test can kill it at any moment of its start-up too.
func (m *managerProc) start() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.log == nil {
		f, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		m.log = f
	}
	cmd := exec.Command(m.bin, append([]string{"--kubeconfig", m.kubeconfig,
		"--metrics-bind-address", m.metricsAddr, "--health-probe-bind-address", m.probeAddr,
		"--pprof-bind-address", m.pprofAddr}, m.extraArgs...)...)
	cmd.Env = append(os.Environ(), "FACE_ENDPOINT="+m.endpoint, "FACE_APIKEY="+m.apiKey)
	cmd.Stdout, cmd.Stderr = m.log, m.log
	if err := cmd.Start(); err != nil {
		return err
	}
	m.cmd = cmd
	m.starts++
	return nil
}

// waitServing waits until the metrics endpoint answers.
func (m *managerProc) waitServing(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := m.scrape(); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("manager metrics at %s did not answer within %s (log: %s)", m.metricsAddr, timeout, m.logPath)
}

// kill sends SIGKILL to the running incarnation and reaps it.
func (m *managerProc) kill() {
	m.mu.Lock()
	cmd := m.cmd
	m.cmd = nil
	m.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	}
}

// stop ends the running incarnation gracefully (SIGTERM, then SIGKILL after 10 s) and closes
// the log.
func (m *managerProc) stop() {
	m.terminate(10 * time.Second)
	m.mu.Lock()
	if m.log != nil {
		_ = m.log.Close()
		m.log = nil
	}
	m.mu.Unlock()
}

// terminate sends SIGTERM to the running incarnation, as a rolling upgrade does, and waits for
// it to exit; after timeout it sends SIGKILL, as the kubelet does at the end of the pod's grace
// period. It returns how long the exit took and whether SIGKILL was needed.
func (m *managerProc) terminate(timeout time.Duration) (took time.Duration, killed bool) {
	m.mu.Lock()
	cmd := m.cmd
	m.cmd = nil
	m.mu.Unlock()
	if cmd == nil {
		return 0, false
	}
	start := time.Now()
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		killed = true
	}
	return time.Since(start), killed
}

// pid is the running incarnation's process id (0 when none runs).
func (m *managerProc) pid() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cmd == nil || m.cmd.Process == nil {
		return 0
	}
	return m.cmd.Process.Pid
}

// scrape reads the manager's Prometheus metrics as "name{labels}" -> value.
func (m *managerProc) scrape() (map[string]float64, error) {
	cl := http.Client{Timeout: 2 * time.Second}
	resp, err := cl.Get("http://" + m.metricsAddr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// keepRaw copies a file from the benchmark's temporary folder to reports/raw (git-ignored), so
// logs can be read after the run.
func keepRaw(tb testing.TB, path, name string) {
	raw := filepath.Join(harness.RepoRoot(), "reports", "raw", tb.Name()+"-"+name)
	b, err := os.ReadFile(path)
	if err != nil || os.MkdirAll(filepath.Dir(raw), 0o755) != nil {
		return
	}
	if os.WriteFile(raw, b, 0o644) == nil {
		tb.Logf("kept %s", raw)
	}
}
