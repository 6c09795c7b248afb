package perf

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// chaosScale sizes the chaos suite (scenario_chaos_*_test.go). The full scale is the one the
// bars in reports/chaos-latest.md are stated for; smoke is what TestChaosSmoke runs inside
// 'make test'. Every field can be overridden by its environment variable.
type chaosScale struct {
	Name string

	Sessions int // LIVENESS_CHAOS_SESSIONS: sessions created in each scenario

	Terms       int           // LIVENESS_CHAOS_TERMS: graceful restarts (SIGTERM) in the SIGTERM loop
	TermMinLife time.Duration // LIVENESS_CHAOS_TERM_MIN_LIFE: shortest life before a SIGTERM
	TermMaxLife time.Duration // LIVENESS_CHAOS_TERM_MAX_LIFE: longest life before a SIGTERM

	Kills       int           // LIVENESS_CHAOS_KILLS: SIGKILLs in the SIGKILL loop
	KillMinLife time.Duration // LIVENESS_CHAOS_KILL_MIN_LIFE: shortest life before a SIGKILL
	KillMaxLife time.Duration // LIVENESS_CHAOS_KILL_MAX_LIFE: longest life before a SIGKILL
	FaultRate   float64       // LIVENESS_CHAOS_FAULT_RATE: share of Face calls that fail in the SIGKILL loop

	LeaderKills     int           // LIVENESS_CHAOS_LEADER_KILLS: SIGKILLs of the elected leader
	LeaderKillEvery time.Duration // LIVENESS_CHAOS_LEADER_KILL_EVERY: time between leader kills
}

var chaosScales = map[string]chaosScale{
	"full": {
		Name: "full", Sessions: 1000,
		Terms: 100, TermMinLife: 500 * time.Millisecond, TermMaxLife: 2500 * time.Millisecond,
		Kills: 300, KillMinLife: 200 * time.Millisecond, KillMaxLife: 1500 * time.Millisecond, FaultRate: 0.10,
		LeaderKills: 4, LeaderKillEvery: 30 * time.Second,
	},
	"smoke": {
		Name: "smoke", Sessions: 30,
		Terms: 3, TermMinLife: 500 * time.Millisecond, TermMaxLife: 1500 * time.Millisecond,
		Kills: 5, KillMinLife: 200 * time.Millisecond, KillMaxLife: 1200 * time.Millisecond, FaultRate: 0.10,
		LeaderKills: 1, LeaderKillEvery: 8 * time.Second,
	},
}

// chaosScaleNamed returns a named scale with the environment's overrides applied.
func chaosScaleNamed(name string) (chaosScale, error) {
	s, ok := chaosScales[name]
	if !ok {
		return s, fmt.Errorf("LIVENESS_CHAOS_SCALE=%q: want full or smoke", name)
	}
	var env envOverrides
	env.int("LIVENESS_CHAOS_SESSIONS", &s.Sessions)
	env.int("LIVENESS_CHAOS_TERMS", &s.Terms)
	env.duration("LIVENESS_CHAOS_TERM_MIN_LIFE", &s.TermMinLife)
	env.duration("LIVENESS_CHAOS_TERM_MAX_LIFE", &s.TermMaxLife)
	env.int("LIVENESS_CHAOS_KILLS", &s.Kills)
	env.duration("LIVENESS_CHAOS_KILL_MIN_LIFE", &s.KillMinLife)
	env.duration("LIVENESS_CHAOS_KILL_MAX_LIFE", &s.KillMaxLife)
	env.float("LIVENESS_CHAOS_FAULT_RATE", &s.FaultRate)
	env.int("LIVENESS_CHAOS_LEADER_KILLS", &s.LeaderKills)
	env.duration("LIVENESS_CHAOS_LEADER_KILL_EVERY", &s.LeaderKillEvery)
	if env.err != nil {
		return s, fmt.Errorf("chaos scale override: %w", env.err)
	}
	return s, nil
}

// isFull reports whether the scale is the full one with no field overridden, the only run
// whose figures may be compared with the stated bars as they are.
func (s chaosScale) isFull() bool { return s == chaosScales["full"] }

// chaosReportPath is where TestChaos writes: LIVENESS_CHAOS_REPORT, else
// reports/chaos-latest.md for the full scale and reports/chaos-<scale>.md otherwise, so a quick
// run never overwrites the committed full figures.
func chaosReportPath(s chaosScale) string {
	if p := os.Getenv("LIVENESS_CHAOS_REPORT"); p != "" {
		return p
	}
	name := "chaos-latest.md"
	if s.Name != "full" {
		name = "chaos-" + s.Name + ".md"
	}
	return filepath.Join(harness.RepoRoot(), "reports", name)
}
