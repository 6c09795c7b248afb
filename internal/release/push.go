package release

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// PushOptions say where a built release's images go.
type PushOptions struct {
	// Dist is the release folder (dist/).
	Dist string
	// Registry must be the registry the release was built for: install.yaml and the chart
	// already name it, so pushing anywhere else would ship manifests that pull nothing.
	Registry string
	// Keychain finds the registry's credentials; nil: authn.DefaultKeychain (docker login's
	// config, as crane and ko use it).
	Keychain authn.Keychain
	// Log receives progress lines; nil: none.
	Log func(format string, args ...any)
}

// Push uploads every image index of the release to <registry>/<name>:<version> and checks
// the registry then serves the digest release.json (and so install.yaml) names.
func Push(ctx context.Context, o PushOptions) (*Manifest, error) {
	m, err := ReadManifest(o.Dist)
	if err != nil {
		return nil, err
	}
	if o.Registry == "" {
		o.Registry = m.Registry
	}
	if o.Registry != m.Registry {
		return nil, fmt.Errorf("%s was built for registry %s, not %s: install.yaml and the chart name %s; rebuild with `make release VERSION=%s REGISTRY=%s`",
			o.Dist, m.Registry, o.Registry, m.Registry, m.Version, o.Registry)
	}
	keychain := o.Keychain
	if keychain == nil {
		keychain = authn.DefaultKeychain
	}
	for _, rec := range m.Images {
		idx, err := layoutIndex(filepath.Join(o.Dist, rec.Layout), rec.Digest)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", rec.Name, err)
		}
		tag, err := name.NewTag(rec.Repository + ":" + rec.Tag)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", rec.Name, err)
		}
		if o.Log != nil {
			o.Log("push %s (%s)", tag, rec.Digest)
		}
		opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(keychain)}
		if err := remote.WriteIndex(tag, idx, opts...); err != nil {
			return nil, fmt.Errorf("push %s: %w", tag, err)
		}
		desc, err := remote.Head(tag, opts...)
		if err != nil {
			return nil, fmt.Errorf("read back %s: %w", tag, err)
		}
		if desc.Digest.String() != rec.Digest {
			return nil, fmt.Errorf("%s: the registry serves %s, the release built %s", tag, desc.Digest, rec.Digest)
		}
	}
	return m, nil
}

// layoutIndex is the image index with that digest in an OCI layout.
func layoutIndex(dir, digest string) (v1.ImageIndex, error) {
	lp, err := layout.FromPath(dir)
	if err != nil {
		return nil, err
	}
	top, err := lp.ImageIndex()
	if err != nil {
		return nil, err
	}
	h, err := v1.NewHash(digest)
	if err != nil {
		return nil, err
	}
	return top.ImageIndex(h)
}
