// Package perf measures the operator against docs/TARGETS.md: a burst of sessions next to the
// bare app server, API writes and Face calls per session, a sustained open-loop rate, the
// manager's memory, and crash safety under SIGKILL and Face faults. Every measurement drives the
// real bin/manager process, a real kube-apiserver and etcd (envtest, from KUBEBUILDER_ASSETS)
// and the Face emulator over loopback, and adds a Markdown section to the report written under
// reports/.
//
// The measurements are Go benchmarks, so 'go test ./...' never runs them:
//
//	KUBEBUILDER_ASSETS=... go test -run '^$' -bench . -benchtime 1x -timeout 60m ./test/perf/
//
// LIVENESS_PERF_SCALE=smoke shrinks every measurement to run in about a minute each; the
// default (full) matches docs/TARGETS.md. See support_config_test.go for the per-measurement
// knobs.
//
// The chaos suite (scenario_chaos_*_test.go) is a test, not a benchmark: a SIGTERM loop, a
// SIGKILL loop with Face faults, and leader kills of two replicas, each checked against the
// emulator's inventory. 'make chaos' runs TestChaos at LIVENESS_CHAOS_SCALE (full by default)
// and writes reports/chaos-latest.md; 'go test ./...' runs TestChaosSmoke, the same scenarios
// small, asserting the invariants (see support_chaos_config_test.go for the knobs).
//
// Files: scenario_*_test.go are the measurements (burst next to the bare app server in rounds,
// with CPU profiles; sustained with the knee search; crash safety and its checks; memory; one
// manager against a slow Face; quota; chaos); support_*_test.go is what they share (the
// cluster and manager processes, the Face baseline, the session tracker, statistics, the audit
// log, CPU profiles and their reading, the report). Profiles go to a profiles folder next to
// the report (reports/profiles for the full scale); reports/profiles/README.md reads them.
package perf
