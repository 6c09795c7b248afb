package harness

import (
	"sync"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// addUserMu serializes every envtest AddUser in the test process. envtest's AddUser is not
// safe for concurrent use: it signs the user's client certificate with the control plane's
// TinyCA, whose serial-number counter (TinyCA.makeCert) is a *big.Int read and incremented
// without a lock, so two parallel tests adding users race (go test -race reports it, and two
// certificates can get the same serial). One lock for all control planes keeps the rule
// simple; adding a user takes milliseconds.
var addUserMu sync.Mutex

// AddUser adds a user to env's API server, signed by its certificate authority, with cfg as
// the base of the returned user's rest config. Use it (or ControlPlane.AddUser) instead of
// env.AddUser from any test that may run in parallel with another.
func AddUser(env *envtest.Environment, cfg *rest.Config, user envtest.User) (*envtest.AuthenticatedUser, error) {
	addUserMu.Lock()
	defer addUserMu.Unlock()
	u, err := env.AddUser(user, cfg)
	if err != nil {
		return nil, err
	}
	// AuthenticatedUser.Config completes the user's rest config on its first call (a write to
	// the shared user); completing it here, once, makes every later Config and KubeConfig a
	// read, so parallel tests may share the user (AdminUser).
	u.Config()
	return u, nil
}

// AddUser adds a user to the control plane (see the package-level AddUser: safe from
// parallel tests).
func (c *ControlPlane) AddUser(user envtest.User) (*envtest.AuthenticatedUser, error) {
	return AddUser(c.Env, c.Config, user)
}

// AdminUser is the control plane's one administrator user (system:masters), added on first
// use and shared by every test after that: a package's parallel tests need no user of their
// own to act as cluster administrator.
func (c *ControlPlane) AdminUser() (*envtest.AuthenticatedUser, error) {
	c.adminOnce.Do(func() {
		c.admin, c.adminErr = c.AddUser(envtest.User{Name: "test-admin", Groups: []string{"system:masters"}})
	})
	return c.admin, c.adminErr
}
