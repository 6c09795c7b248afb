package harness

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

// SharedControlPlane is one control plane for a test package: started by the first test that
// needs it, so the package's unit tests run without one, and stopped when the package's tests
// are done (Run, from TestMain). Each test isolates itself in a namespace of its own.
type SharedControlPlane struct {
	// OnStart, when set, runs once the control plane is up, with an administrator client
	// that reads straight from the API server: the package keeps what its tests use. It
	// runs before any Start returns, so the tests read what it set without a race.
	OnStart func(cp *ControlPlane, admin client.Client)

	once  sync.Once
	cp    *ControlPlane
	admin client.Client
	err   error
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
		s.admin = admin
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

// AppServerNamespace is one test's namespace as an app server meets it: its own Face emulator,
// the operator's manager watching it (when asked for), and a user holding only the app server
// Role of config/samples/app-server.
type AppServerNamespace struct {
	// Name is the namespace.
	Name string
	// Emulator is the namespace's Face emulator, the manager's default account.
	Emulator *Emulator
	// User is the app server's user.
	User *envtest.AuthenticatedUser
}

// AppServerNamespace starts the control plane if needed and sets up a namespace named after
// the test (prefix first), with a manager when withOperator, and the app server's user called
// userPrefix plus the namespace's name.
func (s *SharedControlPlane) AppServerNamespace(t testing.TB, prefix, userPrefix string, withOperator bool) *AppServerNamespace {
	t.Helper()
	cp := s.Start(t)
	ns := NamespaceName(prefix, t)
	ctx := context.Background()
	if err := s.admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatalf("namespace %s: %v", ns, err)
	}
	a := &AppServerNamespace{Name: ns, Emulator: StartEmulator(t, emulator.Config{})}
	if withOperator {
		StartManager(t, cp.Config, ns, ManagerOptions{Endpoint: a.Emulator.URL, APIKey: TestAPIKey})
	}
	user, err := cp.AddAppServerUser(ctx, ns, userPrefix+ns)
	if err != nil {
		t.Fatalf("app server user: %v", err)
	}
	a.User = user
	return a
}
