package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// listFlag collects a repeatable flag whose values may also be comma-separated.
type listFlag []string

// String joins the values, for flag.Value.
func (l *listFlag) String() string { return strings.Join(*l, ",") }

// Set appends one occurrence, split on commas, for flag.Value.
func (l *listFlag) Set(v string) error {
	*l = append(*l, splitList(v)...)
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

const serveUsage = `Usage: face-emulator [serve] --api-key KEY [flags]

Serves the Face v1.2 liveness API under /face/v1.2/, Face v1.3-preview.1 under
/face/v1.3-preview.1/ (several attempts per session, client IPs, abuse monitoring,
settings), and the emulator's own endpoints under /emulator/ (inventory, stats,
faults, quota, attempts, settings). The first line on
stdout is "face-emulator listening on http://HOST:PORT"; logs go to stderr.
SIGINT or SIGTERM shuts it down cleanly.

Credentials (at least one is required):
  --api-key KEY          accepted Ocp-Apim-Subscription-Key; repeat or comma-separate
                         for several keys. Default: $FACE_APIKEY (comma-separated).
  --bearer-token TOKEN   accepted "Authorization: Bearer" token; repeatable.

Flags:
`

// serve runs the emulator until ctx is cancelled.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		keys, tokens listFlag
		cfg          emulator.Config
		listen       = fs.String("listen", "127.0.0.1:0", "address to listen on; port 0 picks a free port")
		verbose      = fs.Bool("verbose", false, "log every Face API request to stderr")
		seed         = fs.Uint64("seed", emulator.DefaultSeed, "seed of the random source behind the fault rates")
	)
	fs.Var(&keys, "api-key", "accepted API key (repeatable, comma list; default $FACE_APIKEY)")
	fs.Var(&tokens, "bearer-token", "accepted bearer token (repeatable, comma list)")
	fs.Float64Var(&cfg.Quota.RequestsPerSecond, "rps", 0, "requests per second allowed per key (token bucket); 0 = unlimited")
	fs.IntVar(&cfg.Quota.Burst, "burst", 0, "token bucket size for --rps; 0 = max(1, ceil(rps))")
	fs.IntVar(&cfg.Quota.RequestsPerMinute, "per-minute", 0, "requests per minute allowed per key (like F0's 20); 0 = unlimited")
	fs.Float64Var(&cfg.Faults.ErrorRate500, "error-rate-500", 0, "fraction of Face requests answered 500 (0..1)")
	fs.Float64Var(&cfg.Faults.ErrorRate503, "error-rate-503", 0, "fraction of Face requests answered 503 (0..1)")
	fs.IntVar(&cfg.Faults.RetryAfter503, "retry-after-503", 0, "Retry-After seconds on injected 503s; 0 = no header")
	fs.DurationVar(&cfg.Faults.Latency, "latency", 0, "latency added to every Face request (e.g. 200ms)")
	fs.DurationVar(&cfg.Faults.LatencyJitter, "latency-jitter", 0, "extra random latency in [0, jitter)")
	fs.Float64Var(&cfg.Faults.DropRate, "drop-rate", 0, "fraction of Face requests whose connection is closed unanswered (0..1)")
	fs.Float64Var(&cfg.Faults.CommitThenDropRate, "commit-then-drop-rate", 0, "fraction of creates stored but never answered (0..1)")
	fs.DurationVar(&cfg.SessionLifetime, "session-lifetime", emulator.DefaultSessionLifetime, "how long a session stays readable after creation")
	fs.IntVar(&cfg.InventoryLimit, "inventory-limit", emulator.DefaultInventoryLimit, "deleted sessions kept for inspection; -1 = all")
	fs.BoolVar(&cfg.StaleSessionStatus, "stale-status", false, "keep session status NotStarted after attempts, as the published examples show")
	fs.DurationVar(&cfg.AbuseWindow, "abuse-window", emulator.DefaultAbuseWindow, "v1.3: how far back abuse monitoring looks for the same face under another user correlation id")
	fs.BoolVar(&cfg.AbuseMonitoringOffByDefault, "abuse-monitoring-off", false, "v1.3: start every key's livenessAbuseMonitoring setting disabled (default enabled)")
	fs.BoolVar(&cfg.RequireUserCorrelationIDOnMultipart, "require-user-correlation-multipart", false, "v1.3: refuse a liveness-with-verify create without a userCorrelationId part, as the service is reported to")
	fs.BoolVar(&cfg.EnforceExpectedClientIP, "enforce-expected-client-ip", false, "v1.3: fail attempts from outside expectedClientIpAddress with the emulator-only code EmulatorClientIpMismatch")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), serveUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "face-emulator: unexpected argument %q (see -h)\n", fs.Arg(0))
		return 2
	}
	if len(keys) == 0 {
		keys = splitList(getenv("FACE_APIKEY"))
	}
	if len(keys) == 0 && len(tokens) == 0 {
		fmt.Fprintln(stderr, "face-emulator: no credentials: give --api-key KEY (or set FACE_APIKEY) and/or --bearer-token TOKEN")
		return 2
	}
	if err := cfg.Quota.Validate(); err != nil {
		fmt.Fprintf(stderr, "face-emulator: invalid quota: %v\n", err)
		return 2
	}
	if err := cfg.Faults.Validate(); err != nil {
		fmt.Fprintf(stderr, "face-emulator: invalid faults: %v\n", err)
		return 2
	}
	cfg.APIKeys, cfg.BearerTokens, cfg.Seed = keys, tokens, *seed
	if *verbose {
		cfg.RequestLog = func(line string) { fmt.Fprintln(stderr, line) }
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "face-emulator: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: emulator.New(cfg), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "face-emulator listening on http://%s\n", ln.Addr())
	fmt.Fprintf(stderr, "face-emulator: %d API key(s), %d bearer token(s); quota %+v; faults %+v; session lifetime %s\n",
		len(keys), len(tokens), cfg.Quota, cfg.Faults, cfg.SessionLifetime)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "face-emulator: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr, "face-emulator: shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintf(stderr, "face-emulator: shutdown: %v\n", err)
		return 1
	}
	return 0
}
