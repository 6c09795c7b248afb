package release

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/internal/release"
)

// A release built for a registry pushes to it: the registry then serves every image index
// at the version's tag with the digest install.yaml pins, and the amd64 manager runs as
// 65532. Pushing a release to another registry than the one it was built for is refused,
// since its install.yaml and chart would pull from the first.
func TestPushToRegistry(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	built := opts
	built.Registry = host + "/team"
	built.Out = filepath.Join(t.TempDir(), "dist")
	m, err := release.Assemble(built, bins)
	require.NoError(t, err)
	require.Contains(t, readFile(t, filepath.Join(built.Out, m.Install)), host+"/team/liveness-operator@"+m.Images[0].Digest)

	_, err = release.Push(context.Background(), release.PushOptions{Dist: built.Out, Registry: "registry.example.com/other", Keychain: authn.NewMultiKeychain()})
	require.ErrorContains(t, err, "was built for registry "+host+"/team")

	pushed, err := release.Push(context.Background(), release.PushOptions{Dist: built.Out, Keychain: authn.NewMultiKeychain()})
	require.NoError(t, err)
	require.Equal(t, m, pushed)
	for _, rec := range m.Images {
		tag, err := name.NewTag(rec.Repository + ":" + testVersion)
		require.NoError(t, err)
		idx, err := remote.Index(tag)
		require.NoError(t, err)
		digest, err := idx.Digest()
		require.NoError(t, err)
		require.Equal(t, rec.Digest, digest.String(), rec.Name)
		byDigest, err := name.NewDigest(rec.Ref())
		require.NoError(t, err)
		im, err := remote.Image(byDigest, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: "amd64"}))
		require.NoError(t, err)
		cf, err := im.ConfigFile()
		require.NoError(t, err)
		require.Equal(t, "65532:65532", cf.Config.User)
		require.Equal(t, "amd64", cf.Architecture)
	}
}
