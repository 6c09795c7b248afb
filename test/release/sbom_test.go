package release

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/internal/release"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// Each image has a CycloneDX 1.5 SBOM describing it by digest, listing the Go toolchain and
// the modules its binary links at the versions go.mod requires.
func TestSBOMPerImage(t *testing.T) {
	goMod, err := os.ReadFile(filepath.Join(harness.RepoRoot(), "go.mod"))
	require.NoError(t, err)
	required := func(path string) string {
		m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(path) + ` (v\S+)`).FindSubmatch(goMod)
		require.NotNil(t, m, "go.mod requires %s", path)
		return string(m[1])
	}
	for _, img := range release.Images {
		t.Run(img.Name, func(t *testing.T) {
			rec := imageRecord(t, img.Name)
			require.Equal(t, filepath.ToSlash(release.SBOMFile(img)), rec.SBOM)
			var doc release.SBOM
			require.NoError(t, json.Unmarshal([]byte(readDist(t, rec.SBOM)), &doc))
			require.Equal(t, "CycloneDX", doc.BOMFormat)
			require.Equal(t, "1.5", doc.SpecVersion)
			require.Regexp(t, `^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, doc.SerialNumber)
			require.Equal(t, "container", doc.Metadata.Component.Type)
			require.Equal(t, rec.Repository, doc.Metadata.Component.Name)
			require.Equal(t, []release.SBOMHash{{Alg: "SHA-256", Content: strings.TrimPrefix(rec.Digest, "sha256:")}},
				doc.Metadata.Component.Hashes)
			versions := map[string]string{}
			for _, c := range doc.Components {
				versions[c.Name] = c.Version
				require.Equal(t, c.BOMRef, c.PURL)
				require.True(t, strings.HasPrefix(c.PURL, "pkg:golang/"), c.PURL)
			}
			require.Equal(t, testVersion, versions["github.com/liveness-operator/liveness-operator"])
			require.Regexp(t, `^go1\.\d+`, versions["stdlib"])
			if img.Name == release.ManagerImage {
				require.Equal(t, required("github.com/Azure/azure-sdk-for-go/sdk/azcore"), versions["github.com/Azure/azure-sdk-for-go/sdk/azcore"])
				require.Equal(t, required("sigs.k8s.io/controller-runtime"), versions["sigs.k8s.io/controller-runtime"])
				require.Equal(t, required("k8s.io/client-go"), versions["k8s.io/client-go"])
			}
			require.Equal(t, required("golang.org/x/crypto/x509roots/fallback"), versions["golang.org/x/crypto/x509roots/fallback"],
				"the CA roots embedded in every binary")
			_, testOnly := versions["github.com/stretchr/testify"]
			require.False(t, testOnly, "only what the binary links, not what the tests use")
		})
	}
}
