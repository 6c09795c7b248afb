// Package caroots makes a binary verify TLS servers with no CA roots on the machine: the
// release images hold nothing but the binary (no /etc/ssl), yet the manager talks to Azure AI
// Face and Entra ID over TLS. Importing it links golang.org/x/crypto/x509roots/fallback, whose
// bundle (Mozilla's NSS roots) crypto/x509 uses only when the system has no roots, and adds a
// "ca-roots" line to --version that says whether the roots Azure's certificates chain to are
// trusted by the pool TLS actually uses.
package caroots

import (
	"crypto/x509"
	"fmt"
	"strings"

	// The roots themselves: registered with x509.SetFallbackRoots at init.
	_ "golang.org/x/crypto/x509roots/fallback"
	"golang.org/x/crypto/x509roots/fallback/bundle"

	"github.com/liveness-operator/liveness-operator/internal/version"
)

// AzureRoots are the common names of the roots that Azure's public TLS certificates
// (*.cognitiveservices.azure.com, login.microsoftonline.com) chain to.
var AzureRoots = []string{"DigiCert Global Root G2", "Microsoft RSA Root Certificate Authority 2017"}

func init() {
	version.AddDetail("ca-roots", func() string {
		if err := Check(); err != nil {
			return "MISSING: " + err.Error()
		}
		return "ok (" + strings.Join(AzureRoots, ", ") + ")"
	})
}

// Check verifies each of AzureRoots against the pool crypto/x509 uses when a TLS config names
// no roots (the system's, or the fallback bundle when the system has none). A root verifies
// as a chain of its own exactly when that pool holds it, so nil means a server certificate
// chaining to these roots passes verification in this process.
func Check() error {
	certs := map[string]*x509.Certificate{}
	for r := range bundle.Roots() {
		c, err := x509.ParseCertificate(r.Certificate)
		if err != nil {
			return fmt.Errorf("parse a bundled root: %w", err)
		}
		certs[c.Subject.CommonName] = c
	}
	var missing []string
	for _, name := range AzureRoots {
		c, ok := certs[name]
		if !ok {
			return fmt.Errorf("%s is not in the fallback bundle", name)
		}
		// Verify with no Roots: the system pool, as tls.Config{} without RootCAs does.
		if _, err := c.Verify(x509.VerifyOptions{KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("not trusted: %s", strings.Join(missing, ", "))
	}
	return nil
}
