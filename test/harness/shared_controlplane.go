package harness

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SharedControlPlane is one control plane for a test package: started by the first test that
// needs it, so the package's unit tests run without one, and stopped when the package's tests
// are done (Run, from TestMain). Each test isolates itself in a namespace of its own.
type SharedControlPlane struct {
	// OnStart, when set, runs once the control plane is up, with an administrator client
	// that reads straight from the API server: the package keeps what its tests use. It
	// runs before any Start returns, so the tests read what it set without a race.
	OnStart func(cp *ControlPlane, admin client.Client)

	once sync.Once
	cp   *ControlPlane
	err  error
}

// Start starts the control plane on first use and returns it; a failed start fails every test
// that needs it, with the reason.
func (s *SharedControlPlane) Start(t testing.TB) *ControlPlane {
	t.Helper()
	s.once.Do(func() {
		if s.cp, s.err = StartControlPlane(); s.err != nil {
			return
		}
		admin, err := client.New(s.cp.Config, client.Options{Scheme: Scheme()})
		if err != nil {
			s.err = fmt.Errorf("administrator client: %w", err)
			return
		}
		if s.OnStart != nil {
			s.OnStart(s.cp, admin)
		}
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.cp
}

// Run runs the package's tests and then stops the control plane if one was started; it
// returns the exit code for os.Exit.
func (s *SharedControlPlane) Run(m *testing.M) int {
	code := m.Run()
	if s.cp != nil {
		if err := s.cp.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop control plane:", err)
		}
	}
	return code
}
