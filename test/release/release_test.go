// Package release checks what internal/release builds: the OCI layouts read back (config,
// annotations, layer contents, both platforms), the amd64 binary taken out of the image
// answering --version with the release's version and trusting Azure's CA roots with no system
// roots, and a second assembly from the same binaries giving the same digests and files.
package release

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/internal/release"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// testVersion is the version the tests' release is built as.
const testVersion = "v0.0.0-test.1"

var (
	// opts and bins are the one build of this package (TestMain): two arches, two images.
	opts release.Options
	bins release.Binaries
	// manifest is the release assembled from bins into opts.Out.
	manifest *release.Manifest
)

func TestMain(m *testing.M) {
	os.Exit(buildOnce(m))
}

// buildOnce builds the binaries once for every test (cross-compiling and linking four
// binaries is most of the time), assembles a release from them and runs the tests.
func buildOnce(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "liveness-release-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	commit, created, err := release.GitCommit(harness.RepoRoot())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	opts = release.Options{Root: harness.RepoRoot(), Out: filepath.Join(tmp, "dist"), Version: testVersion, Commit: commit,
		Created: created, Registry: "registry.example.com/team", Licenses: "NOASSERTION"}
	start := time.Now()
	if bins, err = release.BuildBinaries(context.Background(), opts, filepath.Join(tmp, "bin")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if manifest, err = release.Assemble(opts, bins); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "release built and assembled in %s\n", time.Since(start).Round(time.Second))
	return m.Run()
}

// Each layout holds one index tagged with the version, with one image per platform: user
// 65532, the binary as entrypoint, the annotations on index and manifests, and a single layer
// holding exactly the binary, owned by root, with the release's time.
func TestLayoutReadBack(t *testing.T) {
	for i, img := range release.Images {
		t.Run(img.Name, func(t *testing.T) {
			rec := manifest.Images[i]
			require.Equal(t, img.Name, rec.Name)
			require.Equal(t, "registry.example.com/team/"+img.Name, rec.Repository)
			lp, err := layout.FromPath(filepath.Join(opts.Out, rec.Layout))
			require.NoError(t, err)
			top, err := lp.ImageIndex()
			require.NoError(t, err)
			im, err := top.IndexManifest()
			require.NoError(t, err)
			require.Len(t, im.Manifests, 1)
			require.Equal(t, testVersion, im.Manifests[0].Annotations[release.AnnotationRefName])
			require.Equal(t, rec.Digest, im.Manifests[0].Digest.String())
			idx, err := top.ImageIndex(im.Manifests[0].Digest)
			require.NoError(t, err)
			idxManifest, err := idx.IndexManifest()
			require.NoError(t, err)
			requireAnnotations(t, idxManifest.Annotations)
			var platforms []string
			for _, desc := range idxManifest.Manifests {
				p := desc.Platform.OS + "/" + desc.Platform.Architecture
				platforms = append(platforms, p)
				require.Equal(t, rec.Platforms[p], desc.Digest.String())
				image, err := idx.Image(desc.Digest)
				require.NoError(t, err)
				m, err := image.Manifest()
				require.NoError(t, err)
				requireAnnotations(t, m.Annotations)
				cf, err := image.ConfigFile()
				require.NoError(t, err)
				require.Equal(t, "65532:65532", cf.Config.User)
				require.Equal(t, []string{"/" + img.Binary}, cf.Config.Entrypoint)
				require.Equal(t, desc.Platform.Architecture, cf.Architecture)
				require.True(t, cf.Created.Time.Equal(opts.Created), "config created %s", cf.Created)
				require.Empty(t, cf.Config.Env, "nothing but the binary: no PATH, no shell")
				layers, err := image.Layers()
				require.NoError(t, err)
				require.Len(t, layers, 1)
				files := layerFiles(t, layers[0])
				require.Equal(t, []string{img.Binary}, keysOf(files), "exactly the binary")
				h := files[img.Binary]
				require.Equal(t, int64(0o755), h.Mode)
				require.Equal(t, 0, h.Uid)
				require.Equal(t, 0, h.Gid)
				require.True(t, h.ModTime.Equal(opts.Created))
			}
			require.ElementsMatch(t, []string{"linux/amd64", "linux/arm64"}, platforms)
		})
	}
}

// The manager taken out of the amd64 image prints the release's version and commit, and
// with no system roots (SSL_CERT_FILE and SSL_CERT_DIR pointing nowhere, as in the image)
// still trusts the roots Azure's certificates chain to: the embedded fallback bundle is what
// crypto/x509 uses. With a system pool that lacks them (one unrelated certificate) the same
// check reports them missing, so the line is not a constant. This proves the pool TLS uses
// holds those roots; it makes no TLS connection to Azure (none is reachable here).
func TestBinaryFromImage(t *testing.T) {
	for i, img := range release.Images {
		t.Run(img.Name, func(t *testing.T) {
			bin := extractBinary(t, manifest.Images[i], img)
			out := runBinary(t, bin, "SSL_CERT_FILE=/nonexistent", "SSL_CERT_DIR=/nonexistent")
			require.Contains(t, out, img.Binary+" "+testVersion+" (commit "+opts.Commit)
			require.Contains(t, out, "linux/amd64")
			require.Contains(t, out, "ca-roots: ok (DigiCert Global Root G2, Microsoft RSA Root Certificate Authority 2017)")

			other := filepath.Join(t.TempDir(), "other.pem")
			require.NoError(t, os.WriteFile(other, unrelatedCA, 0o644))
			out = runBinary(t, bin, "SSL_CERT_FILE="+other, "SSL_CERT_DIR=/nonexistent")
			require.Contains(t, out, "ca-roots: MISSING: not trusted: DigiCert Global Root G2")
		})
	}
}

// Assembled again from the same binaries, later, into another folder, from binaries with
// other file times, the release has the same digests and the same SHA256SUMS. (The binaries'
// own reproducibility is Go's, with -trimpath and the fixed flags; make release-test builds
// the whole release twice and compares.)
func TestAssembleIsReproducible(t *testing.T) {
	again := opts
	again.Out = filepath.Join(t.TempDir(), "dist")
	later := time.Now().Add(time.Hour)
	for _, byPlatform := range bins {
		for _, path := range byPlatform {
			require.NoError(t, os.Chtimes(path, later, later))
		}
	}
	m2, err := release.Assemble(again, bins)
	require.NoError(t, err)
	require.Equal(t, manifest, m2)
	sums1, err := os.ReadFile(filepath.Join(opts.Out, "SHA256SUMS"))
	require.NoError(t, err)
	sums2, err := os.ReadFile(filepath.Join(again.Out, "SHA256SUMS"))
	require.NoError(t, err)
	require.Equal(t, string(sums1), string(sums2))
	require.Contains(t, string(sums1), "  release.json\n")
}

// Options are checked before anything is built.
func TestOptionsRejected(t *testing.T) {
	for _, tc := range []struct {
		change func(*release.Options)
		want   string
	}{
		{func(o *release.Options) { o.Version = "0.1.0" }, "want vMAJOR.MINOR.PATCH"},
		{func(o *release.Options) { o.Commit = "abc" }, "full 40-character hash"},
		{func(o *release.Options) { o.Registry = "https://ghcr.io/x" }, "no scheme"},
		{func(o *release.Options) { o.Registry = "ghcr.io/x:v1" }, "no scheme, no tag"},
		{func(o *release.Options) { o.Created = time.Time{} }, "SOURCE_DATE_EPOCH"},
	} {
		o := opts
		tc.change(&o)
		require.ErrorContains(t, o.Validate(), tc.want)
	}
}

func requireAnnotations(t *testing.T, ann map[string]string) {
	t.Helper()
	require.Equal(t, release.DefaultSource, ann[release.AnnotationSource])
	require.Equal(t, opts.Commit, ann[release.AnnotationRevision])
	require.Equal(t, testVersion, ann[release.AnnotationVersion])
	require.Equal(t, opts.Created.UTC().Format(time.RFC3339), ann[release.AnnotationCreated])
	require.Equal(t, "NOASSERTION", ann[release.AnnotationLicenses])
}

// layerFiles are the tar headers of a layer by name, read from its compressed blob.
func layerFiles(t *testing.T, l v1.Layer) map[string]*tar.Header {
	t.Helper()
	rc, err := l.Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	tr := tar.NewReader(rc)
	files := map[string]*tar.Header{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		require.NoError(t, err)
		files[h.Name] = h
	}
}

// extractBinary writes the binary of the image's linux/amd64 manifest to a temporary file.
func extractBinary(t *testing.T, rec release.ImageRecord, img release.Image) string {
	t.Helper()
	lp, err := layout.FromPath(filepath.Join(opts.Out, rec.Layout))
	require.NoError(t, err)
	top, err := lp.ImageIndex()
	require.NoError(t, err)
	idxHash, err := v1.NewHash(rec.Digest)
	require.NoError(t, err)
	idx, err := top.ImageIndex(idxHash)
	require.NoError(t, err)
	h, err := v1.NewHash(rec.Platforms["linux/amd64"])
	require.NoError(t, err)
	image, err := idx.Image(h)
	require.NoError(t, err)
	layers, err := image.Layers()
	require.NoError(t, err)
	rc, err := layers[0].Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	tr := tar.NewReader(rc)
	_, err = tr.Next()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), img.Binary)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(f, tr)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	return path
}

// runBinary runs bin --version with only the given environment.
func runBinary(t *testing.T, bin string, env ...string) string {
	t.Helper()
	cmd := exec.Command(bin, "--version")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return string(out)
}

func keysOf(m map[string]*tar.Header) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// unrelatedCA is a self-signed CA certificate no TLS server of Azure chains to: as the only
// system root it makes crypto/x509 use the system pool, not the fallback bundle.
var unrelatedCA = []byte(strings.TrimSpace(`
-----BEGIN CERTIFICATE-----
MIIBnzCCAUWgAwIBAgIUVCUJARirubUhQzyM+BCfMvdDOhAwCgYIKoZIzj0EAwIw
JDEiMCAGA1UEAwwZbGl2ZW5lc3Mtb3BlcmF0b3IgdGVzdCBDQTAgFw0yNjEyMDcx
NTAxMDBaGA8yMTI2MTExMzE1MDEwMFowJDEiMCAGA1UEAwwZbGl2ZW5lc3Mtb3Bl
cmF0b3IgdGVzdCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABNn8cpU/AIAq
AEkOARQlwcrxl3/2tQB0MoSevR3wNwpK7NGUViI8+faubm30aBURZcQ9bClniHBs
LD26+Kcaf/ujUzBRMB0GA1UdDgQWBBS8cf2W6FMz0BinkS+Xr2682meg3jAfBgNV
HSMEGDAWgBS8cf2W6FMz0BinkS+Xr2682meg3jAPBgNVHRMBAf8EBTADAQH/MAoG
CCqGSM49BAMCA0gAMEUCIQDWqvcvmneOu0T8fBIXmgvr7BxpkMajbJSWdFKnPra3
QQIgaV9k7IvLCkSYJ3GTrO3MEIhBzVG+FsZzVo7salOMeqc=
-----END CERTIFICATE-----
`) + "\n")
