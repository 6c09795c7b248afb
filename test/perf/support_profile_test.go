package perf

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// profileDir is where CPU profiles are kept: a profiles folder next to the report that reads
// them (reports/profiles for the default report), so a reader can open any of them with
// 'go tool pprof'.
func profileDir() string {
	s, err := currentScale()
	if err != nil {
		return filepath.Join(harness.RepoRoot(), "reports", "profiles")
	}
	return filepath.Join(filepath.Dir(reportPath(s)), "profiles")
}

// profileTarget is one process whose Go runtime serves /debug/pprof/profile.
type profileTarget struct {
	Name   string       // file name part: kube-apiserver, etcd, manager
	URL    string       // base URL, without /debug/pprof/profile
	Client *http.Client // authenticated client (the API server needs system:masters)
}

// profileTargets are the control plane and the manager. kube-apiserver serves pprof to
// authorized users (--profiling is on by default), etcd on its client URL (--enable-pprof, set
// in startCluster), the manager on --pprof-bind-address.
func profileTargets(c *cluster, mgr *managerProc) ([]profileTarget, error) {
	api, err := rest.HTTPClientFor(c.AdminConfig)
	if err != nil {
		return nil, err
	}
	api.Timeout = 0 // a profile takes its seconds
	return []profileTarget{
		{Name: "kube-apiserver", URL: strings.TrimSuffix(c.AdminConfig.Host, "/"), Client: api},
		{Name: "etcd", URL: strings.TrimSuffix(c.env.ControlPlane.Etcd.URL.String(), "/"), Client: http.DefaultClient},
		{Name: "manager", URL: "http://" + mgr.pprofAddr, Client: http.DefaultClient},
	}, nil
}

// cpuProfiles records a CPU profile of every target at once; wait returns the files once the
// profiles are complete (the given whole seconds after the start).
type cpuProfiles struct {
	wg    sync.WaitGroup
	mu    sync.Mutex
	files map[string]string
	errs  []error
}

// startCPUProfiles starts profiling every target for seconds, saving to
// reports/profiles/<label>-<target>.pprof.
func startCPUProfiles(ctx context.Context, targets []profileTarget, label string, seconds int) *cpuProfiles {
	p := &cpuProfiles{files: map[string]string{}}
	if err := os.MkdirAll(profileDir(), 0o755); err != nil {
		p.errs = append(p.errs, err)
		return p
	}
	for _, t := range targets {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			path := filepath.Join(profileDir(), label+"-"+t.Name+".pprof")
			err := fetchProfile(ctx, t, seconds, path)
			p.mu.Lock()
			defer p.mu.Unlock()
			if err != nil {
				p.errs = append(p.errs, fmt.Errorf("profile %s: %w", t.Name, err))
				return
			}
			p.files[t.Name] = path
		}()
	}
	return p
}

// fetchProfile downloads one CPU profile.
func fetchProfile(ctx context.Context, t profileTarget, seconds int, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL+"/debug/pprof/profile?seconds="+strconv.Itoa(seconds), nil)
	if err != nil {
		return err
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// wait blocks until every profile is written and returns target name -> file.
func (p *cpuProfiles) wait() (map[string]string, error) {
	p.wg.Wait()
	if len(p.errs) > 0 {
		return p.files, p.errs[0]
	}
	return p.files, nil
}

// profileCategory is a kind of work, recognised by the functions on a sample's stack.
type profileCategory struct {
	Name  string
	Focus string // pprof -focus regexp: a sample counts when any frame matches
}

// apiServerCategories are the costs issue 13 asked about. They overlap (a CEL evaluation
// inside a write is also "handling writes"; the indented ones are parts of that), so each
// share is of all samples, and the shares do not add up to 100 %.
var apiServerCategories = []profileCategory{
	{"handling writes (create, update, patch: from decoding the request to storing the object)", `endpoints/handlers.*(createHandler|patchResource|UpdateResource)`},
	{"... of which the merge patch itself (encode the stored object, merge, decode)", `endpoints/handlers.\(\*patcher\).applyPatch`},
	{"... of which CEL validation (x-kubernetes-validations)", `cel-go|apiextensions-apiserver/pkg/apiserver/schema/cel`},
	{"... of which OpenAPI schema validation", `kube-openapi/pkg/validation|apiextensions-apiserver/pkg/apiserver/validation`},
	{"... of which managedFields (server-side field tracking)", `structured-merge-diff|managedfields`},
	{"... of which custom-resource decoding (schema coercion, unstructured)", `unstructuredSchemaCoercer|schemaCoercingDecoder|storage/etcd3.*decode|UnstructuredJSONScheme`},
	{"JSON encoding and decoding, anywhere", `encoding/json|sigs.k8s.io/json|serializer/json`},
	{"protobuf (built-in kinds such as Secrets, and etcd)", `gogo/protobuf|k8s.io/api/core/v1.*(Marshal|Unmarshal)|\.pb\.`},
	{"watch: decoding etcd's events for the watch cache", `storage/etcd3.\(\*watchChan\)`},
	{"watch: fan-out to the watchers (cacher, watch streams)", `storage/cacher.\(\*Cacher\).dispatch|cacheWatcher|serveWatch|WatchServer`},
	{"etcd client round trips", `go.etcd.io/etcd/client`},
	{"audit logging", `k8s.io/apiserver/pkg/audit\.|k8s.io/apiserver/plugin/pkg/audit`},
	{"authentication and authorization", `pkg/authentication/|pkg/authorization/|plugin/pkg/auth`},
	{"TLS", `crypto/tls|crypto/aes|crypto/internal`},
	{"garbage collection", `runtime\.gcBgMarkWorker|runtime\.gcDrain|runtime\.bgsweep|runtime\.scavenge`},
}

// genericCategories read etcd's and the manager's profiles.
var genericCategories = []profileCategory{
	{"JSON decoding", `json.*(Unmarshal|Decode|decode|unmarshal)`},
	{"JSON encoding", `json.*(Marshal|Encode|encode|marshal)`},
	{"protobuf", `protobuf|\.pb\.|generated.pb`},
	{"reconciling (controllers/session, controllers/account)", `liveness-operator/controllers`},
	{"informers and watch decoding (client-go)", `client-go/tools/cache|watch\.\(\*StreamWatcher\)|reflector`},
	{"Face client (internal/face, azcore)", `liveness-operator/internal/face|azure-sdk-for-go`},
	{"raft and the write-ahead log", `etcd/server/v3/etcdserver.*raft|go.etcd.io/raft|server/v3/storage/wal|wal\.`},
	{"bbolt (etcd's storage)", `bbolt|backend`},
	{"TLS and HTTP/2", `crypto/tls|crypto/aes|crypto/internal|x/net/http2|grpc`},
	{"garbage collection", `runtime\.gcBgMarkWorker|runtime\.gcDrain|runtime\.bgsweep|runtime\.scavenge`},
}

// totalLine is pprof's summary: "Showing nodes accounting for 1.20s, 30.00% of 4s total".
var totalLine = regexp.MustCompile(`accounting for ([0-9.]+)(ms|s|us|µs|ns|min|h)?, ([0-9.]+)% of ([0-9.]+)(ms|s|us|µs|ns|min|h)? total`)

// readProfile renders a Markdown reading of one CPU profile: the profile's total CPU, each
// category's share (samples whose stack has a matching frame) and the functions with the most
// cumulative time, by 'go tool pprof', which ships with Go.
func readProfile(path string, cats []profileCategory) (string, error) {
	total, err := pprofTop(path, "-top", "-nodecount=1")
	if err != nil {
		return "", err
	}
	m := totalLine.FindStringSubmatch(total)
	if m == nil {
		return "", fmt.Errorf("pprof summary of %s not understood:\n%s", path, total)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Samples: %s%s of CPU.\n\n| work | share of samples |\n|---|---|\n", m[4], m[5])
	for _, c := range cats {
		// Every node shown and none dropped: "accounting for" is then the flat time of all
		// the samples the focus keeps, and its percentage their share of the whole profile.
		out, err := pprofTop(path, "-top", "-nodecount=1000000", "-nodefraction=0", "-edgefraction=0", "-focus="+c.Focus)
		share := "0 %"
		if err == nil {
			if fm := totalLine.FindStringSubmatch(out); fm != nil {
				share = fmt.Sprintf("%.0f %%", mustFloat(fm[3]))
			}
		}
		fmt.Fprintf(&b, "| %s | %s |\n", c.Name, share)
	}
	cum, err := pprofTop(path, "-top", "-cum", "-nodecount=60")
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "\nFunctions of this program with the most cumulative time (runtime and framework entry points left out):\n\n```\n%s```\n", topOwnFunctions(cum, 15))
	return b.String(), nil
}

// pprofTop runs 'go tool pprof' with args on path.
func pprofTop(path string, args ...string) (string, error) {
	cmd := exec.Command("go", append(append([]string{"tool", "pprof"}, args...), path)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("go tool pprof %v: %v\n%s", args, err, out)
	}
	return string(out), nil
}

// mustFloat parses a number the regexp already checked.
func mustFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// boringFrames are entry points every sample passes through; they say nothing about where the
// time goes.
var boringFrames = regexp.MustCompile(`^(runtime\.|net/http\.|golang.org/x/net/http2\.|k8s.io/apiserver/pkg/server/filters|k8s.io/apiserver/pkg/endpoints/filters|k8s.io/apiserver/pkg/server\.|k8s.io/apimachinery/pkg/util/wait|sync\.|main\.|google.golang.org/grpc|k8s.io/apiserver/pkg/server/httplog|k8s.io/apiserver/pkg/endpoints/filterlatency|k8s.io/apiserver/pkg/util/flowcontrol|go.opentelemetry.io)`)

// topOwnFunctions keeps pprof's header row and the first n rows naming a function outside
// boringFrames.
func topOwnFunctions(out string, n int) string {
	var b strings.Builder
	inRows := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if !inRows {
			if len(f) > 0 && f[0] == "flat" {
				inRows = true
				b.WriteString(line + "\n")
			}
			continue
		}
		if len(f) < 6 || boringFrames.MatchString(f[5]) {
			continue
		}
		b.WriteString(line + "\n")
		if n--; n == 0 {
			break
		}
	}
	return b.String()
}

// startProfilesBefore starts the profiles and gives the processes a moment to begin sampling,
// so that the load started next is inside them.
func startProfilesBefore(ctx context.Context, targets []profileTarget, label string, seconds int) *cpuProfiles {
	p := startCPUProfiles(ctx, targets, label, seconds)
	time.Sleep(200 * time.Millisecond)
	return p
}

// profileReading is the burst section's reading of the profiles: per process, the share of
// each kind of work, for the operator's burst and for the bare app server's.
func profileReading(op, base map[string]string, seconds int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**CPU profiles** (an extra round after the measured ones, %d s from the start of each run, saved in %s; open with `go tool pprof -http=: <file>`). "+
		"A share counts the samples with a matching function anywhere on the stack, so shares overlap.\n\n", seconds, relToRepo(profileDir()))
	for _, proc := range []string{"kube-apiserver", "etcd", "manager"} {
		cats := genericCategories
		if proc == "kube-apiserver" {
			cats = apiServerCategories
		}
		for _, run := range []struct {
			name  string
			files map[string]string
		}{{"operator's burst", op}, {"bare app server", base}} {
			path, ok := run.files[proc]
			if !ok || (proc == "manager" && run.name == "bare app server") {
				continue
			}
			reading, err := readProfile(path, cats)
			if err != nil {
				reading = fmt.Sprintf("(not read: %v)\n", err)
			}
			fmt.Fprintf(&b, "*%s, %s* (`%s`). %s\n", proc, run.name, filepath.Base(path), reading)
		}
	}
	return b.String()
}

// relToRepo shows a path relative to the repository when it is inside it.
func relToRepo(path string) string {
	if rel, err := filepath.Rel(harness.RepoRoot(), path); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return path
}
