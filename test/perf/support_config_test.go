package perf

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// scale sizes every measurement. The full scale matches docs/TARGETS.md; the smoke scale checks
// that the harness works (each measurement in well under a minute). Any field can be overridden
// by its environment variable, so one figure can be re-measured without editing code.
type scale struct {
	Name string

	BurstSessions int // LIVENESS_PERF_BURST_SESSIONS: sessions in the burst (and in the baseline)
	BurstClients  int // LIVENESS_PERF_BURST_CLIENTS: concurrent clients in the burst
	// ProfileSeconds (LIVENESS_PERF_PROFILE_SECONDS) is the length of the CPU profiles taken
	// of kube-apiserver, etcd and the manager from the start of the burst and of the baseline.
	ProfileSeconds int
	// BurstRounds (LIVENESS_PERF_BURST_ROUNDS) repeats the bare app server and the operator's
	// burst that many times in one cluster; the report quotes the medians.
	BurstRounds int

	SustainedRate float64       // LIVENESS_PERF_SUSTAINED_RATE: open-loop arrivals per second
	SustainedFor  time.Duration // LIVENESS_PERF_SUSTAINED_FOR: how long arrivals go on
	// KneeRates (LIVENESS_PERF_KNEE_RATES, comma-separated) are the offered rates of the knee
	// search's steps, rising; KneeStepFor (LIVENESS_PERF_KNEE_STEP_FOR) is each step's length.
	KneeRates   []float64
	KneeStepFor time.Duration

	// FaceLatency (LIVENESS_PERF_FACE_LATENCY) delays every Face answer in the slow-Face
	// measurement, which runs FaceLatencySessions sessions from FaceLatencyClients clients once
	// per entry of FaceLatencyRuns: {--max-concurrent-reconciles, --face-max-concurrent-calls}.
	FaceLatency         time.Duration
	FaceLatencySessions int
	FaceLatencyClients  int
	FaceLatencyRuns     [][2]int
	MemorySessions      int // LIVENESS_PERF_MEMORY_SESSIONS: live sessions for the RSS figure
	MemorySecrets       int // LIVENESS_PERF_MEMORY_SECRETS: unrelated Secrets added afterwards
	MemorySecretSize    int // LIVENESS_PERF_MEMORY_SECRET_BYTES: size of each unrelated Secret

	CrashSessions  int           // LIVENESS_PERF_CRASH_SESSIONS: sessions created under kills
	CrashKills     int           // LIVENESS_PERF_CRASH_KILLS: SIGKILLs of the manager
	CrashMinLife   time.Duration // LIVENESS_PERF_CRASH_MIN_LIFE: shortest manager life between kills
	CrashMaxLife   time.Duration // LIVENESS_PERF_CRASH_MAX_LIFE: longest manager life between kills
	CrashFaultRate float64       // LIVENESS_PERF_CRASH_FAULT_RATE: fraction of Face calls that fail

	// ManagerArgs are extra flags for bin/manager (LIVENESS_PERF_MANAGER_ARGS, space-separated),
	// e.g. "--kube-api-qps=-1 --max-concurrent-reconciles=32", to measure a tuning.
	ManagerArgs []string
}

var scales = map[string]scale{
	"full": {
		Name: "full", BurstSessions: 500, BurstClients: 16, ProfileSeconds: 3, BurstRounds: 3,
		SustainedRate: 150, SustainedFor: 30 * time.Second,
		KneeRates: []float64{30, 45, 60, 75, 90, 105, 120, 150}, KneeStepFor: 15 * time.Second,
		FaceLatency: 250 * time.Millisecond, FaceLatencySessions: 400, FaceLatencyClients: 64, FaceLatencyRuns: [][2]int{{4, 8}, {16, 8}, {64, 8}, {64, 64}},
		MemorySessions: 10000, MemorySecrets: 1000, MemorySecretSize: 100 << 10,
		CrashSessions: 1000, CrashKills: 300, CrashMinLife: 200 * time.Millisecond, CrashMaxLife: 1500 * time.Millisecond,
		CrashFaultRate: 0.10,
	},
	"smoke": {
		Name: "smoke", BurstSessions: 50, BurstClients: 16, ProfileSeconds: 1, BurstRounds: 1,
		SustainedRate: 20, SustainedFor: 5 * time.Second,
		KneeRates: []float64{20, 40}, KneeStepFor: 3 * time.Second,
		FaceLatency: 250 * time.Millisecond, FaceLatencySessions: 40, FaceLatencyClients: 16, FaceLatencyRuns: [][2]int{{4, 8}, {16, 16}},
		MemorySessions: 200, MemorySecrets: 50, MemorySecretSize: 100 << 10,
		CrashSessions: 50, CrashKills: 10, CrashMinLife: 200 * time.Millisecond, CrashMaxLife: 1500 * time.Millisecond,
		CrashFaultRate: 0.10,
	},
}

// currentScale reads LIVENESS_PERF_SCALE (default full) and the per-field overrides.
func currentScale() (scale, error) {
	name := os.Getenv("LIVENESS_PERF_SCALE")
	if name == "" {
		name = "full"
	}
	s, ok := scales[name]
	if !ok {
		return s, fmt.Errorf("LIVENESS_PERF_SCALE=%q: want full or smoke", name)
	}
	var env envOverrides
	env.int("LIVENESS_PERF_BURST_SESSIONS", &s.BurstSessions)
	env.int("LIVENESS_PERF_BURST_CLIENTS", &s.BurstClients)
	env.int("LIVENESS_PERF_PROFILE_SECONDS", &s.ProfileSeconds)
	env.int("LIVENESS_PERF_BURST_ROUNDS", &s.BurstRounds)
	env.float("LIVENESS_PERF_SUSTAINED_RATE", &s.SustainedRate)
	env.duration("LIVENESS_PERF_SUSTAINED_FOR", &s.SustainedFor)
	env.duration("LIVENESS_PERF_KNEE_STEP_FOR", &s.KneeStepFor)
	env.duration("LIVENESS_PERF_FACE_LATENCY", &s.FaceLatency)
	env.floats("LIVENESS_PERF_KNEE_RATES", &s.KneeRates)
	env.int("LIVENESS_PERF_MEMORY_SESSIONS", &s.MemorySessions)
	env.int("LIVENESS_PERF_MEMORY_SECRETS", &s.MemorySecrets)
	env.int("LIVENESS_PERF_MEMORY_SECRET_BYTES", &s.MemorySecretSize)
	env.int("LIVENESS_PERF_CRASH_SESSIONS", &s.CrashSessions)
	env.int("LIVENESS_PERF_CRASH_KILLS", &s.CrashKills)
	env.duration("LIVENESS_PERF_CRASH_MIN_LIFE", &s.CrashMinLife)
	env.duration("LIVENESS_PERF_CRASH_MAX_LIFE", &s.CrashMaxLife)
	env.float("LIVENESS_PERF_CRASH_FAULT_RATE", &s.CrashFaultRate)
	s.ManagerArgs = strings.Fields(os.Getenv("LIVENESS_PERF_MANAGER_ARGS"))
	if env.err != nil {
		return s, fmt.Errorf("perf scale override: %w", env.err)
	}
	return s, nil
}

// reportPath is where the report goes: LIVENESS_PERF_REPORT, else reports/perf-latest.md for
// the full scale and reports/perf-smoke.md for the smoke scale, so a quick check never
// overwrites the committed full figures.
func reportPath(s scale) string {
	if p := os.Getenv("LIVENESS_PERF_REPORT"); p != "" {
		return p
	}
	name := "perf-latest.md"
	if s.Name != "full" {
		name = "perf-" + s.Name + ".md"
	}
	return filepath.Join(harness.RepoRoot(), "reports", name)
}
