package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// AppServerRolePath is the Role an app server needs (docs/app-server.md).
func AppServerRolePath() string {
	return filepath.Join(RepoRoot(), "config", "samples", "app-server", "role.yaml")
}

// AddAppServerUser creates the app server Role of config/samples/app-server in namespace,
// binds it to a new user called user, and returns that user: tests that run an app server
// with it prove that the documented permissions are enough.
func (c *ControlPlane) AddAppServerUser(ctx context.Context, namespace, user string) (*envtest.AuthenticatedUser, error) {
	raw, err := os.ReadFile(AppServerRolePath())
	if err != nil {
		return nil, err
	}
	role := &rbacv1.Role{}
	if err := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096).Decode(role); err != nil {
		return nil, fmt.Errorf("decode %s: %w", AppServerRolePath(), err)
	}
	role.Namespace = namespace
	admin, err := client.New(c.Config, client.Options{Scheme: Scheme()})
	if err != nil {
		return nil, err
	}
	if err := admin.Create(ctx, role); err != nil {
		return nil, fmt.Errorf("create Role: %w", err)
	}
	binding := &rbacv1.RoleBinding{
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	binding.Namespace, binding.Name = namespace, role.Name+"-"+user
	if err := admin.Create(ctx, binding); err != nil {
		return nil, fmt.Errorf("create RoleBinding: %w", err)
	}
	return c.AddUser(envtest.User{Name: user})
}
