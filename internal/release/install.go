package release

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// InstallFile is install.yaml's name in dist/.
const InstallFile = "install.yaml"

// managerImageName is the image name config/manager's kustomization gives the manager
// (controller:latest becomes liveness-operator:dev); the release's overlay replaces it.
const managerImageName = "liveness-operator"

// writeInstall writes dist/install.yaml: config/default built by kustomize (the library
// kubectl embeds) through an overlay that pins the manager image to repository@digest. The
// repository's config/ folder is copied into an in-memory file system, so the build reads
// nothing outside it and nothing from the network.
func writeInstall(o Options, manager ImageRecord) error {
	manifest, err := RenderInstall(o.Root, manager)
	if err != nil {
		return err
	}
	header := fmt.Sprintf("# liveness-operator %s (commit %s): CRDs, RBAC and the manager, as config/default installs them,\n"+
		"# with the manager image pinned by digest. Install with:\n"+
		"#   kubectl apply --server-side -f install.yaml\n", o.Version, o.Commit)
	return os.WriteFile(filepath.Join(o.Out, InstallFile), []byte(header+manifest), 0o644)
}

// RenderInstall is config/default with the manager image set to manager.Ref(), as YAML.
func RenderInstall(root string, manager ImageRecord) (string, error) {
	if manager.Repository == "" || !strings.HasPrefix(manager.Digest, "sha256:") {
		return "", fmt.Errorf("manager image %q@%q: want a repository and a sha256 digest", manager.Repository, manager.Digest)
	}
	mem := filesys.MakeFsInMemory()
	config := filepath.Join(root, "config")
	err := filepath.WalkDir(config, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return mem.WriteFile("/repo/"+filepath.ToSlash(rel), data)
	})
	if err != nil {
		return "", fmt.Errorf("read %s: %w", config, err)
	}
	overlay := fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../config/default
images:
- name: %s
  newName: %s
  digest: %s
`, managerImageName, manager.Repository, manager.Digest)
	if err := mem.WriteFile("/repo/release/kustomization.yaml", []byte(overlay)); err != nil {
		return "", err
	}
	// Namespace and CRDs first, workloads last (kustomize's legacy order; its default keeps the
	// resources' order), so one kubectl apply of the file succeeds.
	opts := krusty.MakeDefaultOptions()
	opts.Reorder = krusty.ReorderOptionLegacy
	res, err := krusty.MakeKustomizer(opts).Run(mem, "/repo/release")
	if err != nil {
		return "", fmt.Errorf("kustomize build config/default: %w", err)
	}
	raw, err := res.AsYaml()
	if err != nil {
		return "", err
	}
	manifest := string(raw)
	if !strings.Contains(manifest, "image: "+manager.Ref()+"\n") {
		return "", fmt.Errorf("config/default's manager image is not %q (config/manager's kustomization renamed it?): the overlay did not pin it", managerImageName)
	}
	return manifest, nil
}
