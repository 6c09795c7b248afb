package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// hostileServer is a loopback server a tenant controls: it counts what reaches it and answers
// as told.
type hostileServer struct {
	*httptest.Server
	requests atomic.Int64
	// sawSecret is set when a request carried the tenant's stolen value anywhere in its headers.
	sawSecret atomic.Bool
}

func startHostile(t *testing.T, secret string, answer http.HandlerFunc) *hostileServer {
	t.Helper()
	h := &hostileServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.requests.Add(1)
		for _, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, secret) {
					h.sawSecret.Store(true)
				}
			}
		}
		answer(w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

// apiKeyAccount is a FaceAccount in ns pointing at endpoint, with the "API key" taken from key
// of Secret secret: any Secret of the tenant's namespace.
func apiKeyAccount(ns, name, endpoint, secret, key string) *facev1.FaceAccount {
	return &facev1.FaceAccount{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: facev1.FaceAccountSpec{Endpoint: endpoint,
			Credentials: facev1.FaceCredentials{APIKey: &facev1.SecretKeySelector{Name: secret, Key: key}},
			Quota:       &facev1.FaceQuota{RequestsPerSecond: ptr.To[int32](100)}},
	}
}

// waitAccount waits until the FaceAccount's Ready condition has the status and reason.
func waitAccount(t *testing.T, env *operatorEnv, ns, name string, status metav1.ConditionStatus, reason string) *metav1.Condition {
	t.Helper()
	var ready *metav1.Condition
	harness.Eventually(t, 60*time.Second, func() string {
		fa := &facev1.FaceAccount{}
		if err := env.admin.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, fa); err != nil {
			return err.Error()
		}
		ready = meta.FindStatusCondition(fa.Status.Conditions, facev1.ConditionReady)
		if ready == nil || ready.Status != status || ready.Reason != reason {
			return fmt.Sprintf("account %s/%s Ready is %+v", ns, name, ready)
		}
		return ""
	})
	return ready
}

// A tenant points a FaceAccount at a server it controls and names another Secret's value (a
// database password) as the "API key". With the default --allowed-face-endpoints the account is
// EndpointNotAllowed and nothing at all reaches the server.
func TestAttackFaceAccountAtHostileEndpointSendsNothing(t *testing.T) {
	const password = "db-password-s3cr3t-5d1a"
	hostile := startHostile(t, password, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) })
	env := startOperatorEnv(t)
	ctx := context.Background()
	env.namespace(t, "tenant-b")
	require.NoError(t, env.admin.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-b", Name: "db-creds"},
		StringData: map[string]string{"password": password}}))
	require.NoError(t, env.admin.Create(ctx, apiKeyAccount("tenant-b", "exfil", hostile.URL, "db-creds", "password")))
	ready := waitAccount(t, env, "tenant-b", "exfil", metav1.ConditionFalse, facev1.ReasonEndpointNotAllowed)
	require.Contains(t, ready.Message, "--allowed-face-endpoints")

	ls := &facev1.LivenessSession{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-b", Name: "through-exfil"},
		Spec: facev1.LivenessSessionSpec{OperationMode: facev1.OperationModePassive, DeviceCorrelationID: "exfil-device",
			AccountRef: &facev1.AccountReference{Name: "exfil"}}}
	require.NoError(t, env.admin.Create(ctx, ls))
	waitSession(t, env, "tenant-b", "through-exfil", func(ls *facev1.LivenessSession) bool {
		c := meta.FindStatusCondition(ls.Status.Conditions, facev1.ConditionReady)
		return c != nil && c.Reason == facev1.ReasonAccountNotReady
	})
	time.Sleep(2 * time.Second) // give any stray request time to arrive
	require.Zero(t, hostile.requests.Load(), "no request may leave for a host the administrator did not allow")
	require.False(t, hostile.sawSecret.Load())
	require.NotContains(t, env.managerOut.String(), password)
}

// An allowed endpoint that misbehaves: one answers an endless body, one never answers. The
// manager turns the first into a clear condition without reading it all (its memory stays
// small), and the hanging one holds at most its account's call slots: another tenant's sessions
// on the default account keep reaching Ready meanwhile.
func TestAttackEndlessAndHangingEndpointsExhaustNothing(t *testing.T) {
	endless := startHostile(t, "-", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		chunk := []byte(strings.Repeat(`{"a":"`, 10000))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	hang := startHostile(t, "-", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	allowed := strings.TrimPrefix(endless.URL, "http://") + "," + strings.TrimPrefix(hang.URL, "http://")
	env := startOperatorEnv(t, "--allowed-face-endpoints="+allowed, "--face-timeout=5s")
	ctx := context.Background()
	env.namespace(t, "tenant-c")
	env.namespace(t, "victim")
	require.NoError(t, env.admin.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-c", Name: "key"},
		StringData: map[string]string{"apikey": "k"}}))
	idle, err := harness.ProcessRSS(env.managerPID)
	require.NoError(t, err)

	require.NoError(t, env.admin.Create(ctx, apiKeyAccount("tenant-c", "endless", endless.URL, "key", "apikey")))
	require.NoError(t, env.admin.Create(ctx, apiKeyAccount("tenant-c", "hang", hang.URL, "key", "apikey")))
	for i := range 20 {
		require.NoError(t, env.admin.Create(ctx, &facev1.LivenessSession{
			ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-c", Name: fmt.Sprintf("via-hang-%d", i)},
			Spec: facev1.LivenessSessionSpec{OperationMode: facev1.OperationModePassive, DeviceCorrelationID: fmt.Sprintf("hang-%d", i),
				AccountRef: &facev1.AccountReference{Name: "hang"}}}))
	}
	ready := waitAccount(t, env, "tenant-c", "endless", metav1.ConditionFalse, facev1.ReasonFaceUnavailable)
	require.Contains(t, ready.Message, "larger than")

	// Meanwhile the victim's sessions on the default account are served as usual.
	for i := range 5 {
		name := fmt.Sprintf("victim-%d", i)
		require.NoError(t, env.admin.Create(ctx, &facev1.LivenessSession{ObjectMeta: metav1.ObjectMeta{Namespace: "victim", Name: name},
			Spec: facev1.LivenessSessionSpec{OperationMode: facev1.OperationModePassive, DeviceCorrelationID: name}}))
	}
	for i := range 5 {
		waitSession(t, env, "victim", fmt.Sprintf("victim-%d", i), isReady)
	}
	rss, err := harness.ProcessRSS(env.managerPID)
	require.NoError(t, err)
	t.Logf("manager RSS: idle %d MiB, after the attack %d MiB", idle>>20, rss>>20)
	require.Less(t, rss, uint64(200<<20), "the manager's resident memory stays under 200 MiB")
}

// Anyone can put the operator's label on a Secret. 100 labelled 1 MiB Secrets must not grow the
// manager's memory by 20 MiB: it caches Secrets as metadata only.
func TestAttackLabelledHugeSecretsAreNotCached(t *testing.T) {
	env := startOperatorEnv(t)
	ctx := context.Background()
	env.namespace(t, "tenant-d")
	time.Sleep(3 * time.Second)
	before, err := harness.ProcessRSS(env.managerPID)
	require.NoError(t, err)
	blob := strings.Repeat("x", 1<<20-512)
	for i := range 100 {
		require.NoError(t, env.admin.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-d", Name: fmt.Sprintf("bloat-%d", i),
				Labels: map[string]string{facev1.LabelManagedBy: facev1.ManagedByValue}},
			StringData: map[string]string{"x": blob}}))
	}
	time.Sleep(5 * time.Second)
	after, err := harness.ProcessRSS(env.managerPID)
	require.NoError(t, err)
	t.Logf("manager RSS before %d MiB, after 100 labelled 1 MiB Secrets %d MiB", before>>20, after>>20)
	require.Less(t, int64(after)-int64(before), int64(20<<20))
}
