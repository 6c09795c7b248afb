package e2e

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// Metrics are served over HTTPS to authorized scrapers only: an anonymous scrape gets 401, a
// ServiceAccount without the metrics-reader ClusterRole 403, and one bound to it 200.
func TestAttackMetricsScrapesNeedAuthorization(t *testing.T) {
	addr := harness.FreeAddr(t)
	env := startOperatorEnv(t, "--metrics-bind-address="+addr)
	ctx := context.Background()
	env.namespace(t, "monitoring")
	cs, err := kubernetes.NewForConfig(env.cp.Config)
	require.NoError(t, err)
	token := func(name string) string {
		_, err := cs.CoreV1().ServiceAccounts("monitoring").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		require.NoError(t, err)
		tr, err := cs.CoreV1().ServiceAccounts("monitoring").CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		require.NoError(t, err)
		return tr.Status.Token
	}
	stranger, prometheus := token("stranger"), token("prometheus")
	require.NoError(t, env.admin.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: objectMeta("prometheus-metrics"),
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "liveness-operator-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "prometheus", Namespace: "monitoring"}},
	}))

	scrape := func(bearer string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, "https://"+addr+"/metrics", nil)
		require.NoError(t, err)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		// The manager's certificate is self-signed; what is tested is who may read.
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		resp, err := c.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	code, _ := scrape("")
	require.Equal(t, http.StatusUnauthorized, code, "anonymous")
	code, _ = scrape(stranger)
	require.Equal(t, http.StatusForbidden, code, "a ServiceAccount without metrics-reader")
	harness.Eventually(t, 20*time.Second, func() string {
		if code, _ := scrape(prometheus); code != http.StatusOK {
			return "metrics-reader scrape answered " + http.StatusText(code)
		}
		return ""
	})
	_, body := scrape(prometheus)
	require.Contains(t, body, "liveness_operator_quota_granted_total")
	plain, err := http.Get("http://" + addr + "/metrics")
	if err == nil {
		plain.Body.Close()
		require.NotEqual(t, http.StatusOK, plain.StatusCode, "no plain-HTTP metrics")
	}
}
