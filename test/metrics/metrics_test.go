package metrics

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

const namespace = "metrics"

// A session's whole life through the real manager (a FaceAccount checked, a session created on
// it and one on the default account, the end user's attempt, a sync request, deletion) leaves
// every metric the dashboard and the alerts query on /metrics, with observations in the
// histograms, and nothing secret in any label.
func TestDashboardAndAlertMetricsExistOnLiveOperator(t *testing.T) {
	ctx := context.Background()
	op := startOperator(t, namespace, func(c client.Client, ns string) {
		require.NoError(t, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	})
	c := op.admin

	require.NoError(t, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "team-key", Namespace: namespace},
		StringData: map[string]string{"apikey": emulatorKey}}))
	require.NoError(t, c.Create(ctx, &facev1.FaceAccount{ObjectMeta: metav1.ObjectMeta{Name: "team", Namespace: namespace},
		Spec: facev1.FaceAccountSpec{Endpoint: op.emulatorURL, Credentials: facev1.FaceCredentials{
			APIKey: &facev1.SecretKeySelector{Name: "team-key", Key: "apikey"}}}}))
	harness.Eventually(t, 60*time.Second, func() string {
		fa := &facev1.FaceAccount{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: "team"}, fa); err != nil {
			return err.Error()
		}
		if !meta.IsStatusConditionTrue(fa.Status.Conditions, facev1.ConditionReady) {
			return "the FaceAccount is not Ready"
		}
		return ""
	})

	onTeam := newSession("login-team", "5d1a0f7e-8a0b-4c3e-9f52-3c2b9c1e7a10", &facev1.AccountReference{Name: "team"})
	onDefault := newSession("login-default", "6e2b1f8f-9b1c-4d4f-8a63-4d3c0d2f8b21", nil)
	for _, ls := range []*facev1.LivenessSession{onTeam, onDefault} {
		require.NoError(t, c.Create(ctx, ls))
		waitFor(t, c, ls, "Ready", func(ls *facev1.LivenessSession) bool {
			return meta.IsStatusConditionTrue(ls.Status.Conditions, facev1.ConditionReady)
		})
	}
	families := parseMetrics(t, op.scrape(t))
	require.Equal(t, 2.0, gaugeValue(t, families, "liveness_operator_sessions", map[string]string{"phase": "ready"}),
		"the state collector lists the cache at scrape time")

	// The end user's attempt, then the app server's sync request.
	token := tokenOf(t, c, onTeam)
	attempt(t, op.emulatorURL, token)
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(onTeam), onTeam))
	base := onTeam.DeepCopy()
	onTeam.Annotations = map[string]string{facev1.AnnotationSyncRequestedAt: time.Now().UTC().Format(time.RFC3339)}
	require.NoError(t, c.Patch(ctx, onTeam, client.MergeFrom(base)))
	waitFor(t, c, onTeam, "outcome Live", func(ls *facev1.LivenessSession) bool { return ls.Status.Outcome == facev1.OutcomeLive })
	families = parseMetrics(t, op.scrape(t))
	require.Equal(t, 1.0, gaugeValue(t, families, "liveness_operator_sessions", map[string]string{"phase": "completed"}))
	require.Equal(t, 1.0, gaugeValue(t, families, "liveness_operator_sessions_by_outcome", map[string]string{"outcome": "Live"}))

	for _, ls := range []*facev1.LivenessSession{onTeam, onDefault} {
		require.NoError(t, c.Delete(ctx, ls))
		harness.Eventually(t, 60*time.Second, func() string {
			if err := c.Get(ctx, client.ObjectKeyFromObject(ls), &facev1.LivenessSession{}); !apierrors.IsNotFound(err) {
				return ls.Name + " is not gone yet"
			}
			return ""
		})
	}

	body := op.scrape(t)
	families = parseMetrics(t, body)
	var queries []query
	queries = append(queries, dashboardQueries(t)...)
	queries = append(queries, ruleQueries(t)...)
	require.NotEmpty(t, queries)
	checked := map[string]bool{}
	for _, q := range queries {
		for _, name := range metricNames(t, q) {
			require.True(t, exposed(families, name), "%s queries %s, which /metrics does not expose", q.where, name)
			checked[name] = true
		}
	}
	t.Logf("%d queries use %d metrics, all on /metrics", len(queries), len(checked))

	for _, h := range []string{
		"liveness_operator_face_request_duration_seconds",
		"liveness_operator_session_time_to_token_seconds",
		"liveness_operator_session_time_to_ready_seconds",
		"liveness_operator_session_time_to_completed_seconds",
	} {
		require.Positive(t, histogramCount(t, families, h), "%s has no observation", h)
	}
	require.Equal(t, 2.0, histogramCount(t, families, "liveness_operator_session_time_to_token_seconds"), "observed once per session")
	for _, account := range []string{"default", "FaceAccount/" + namespace + "/team"} {
		require.Positive(t, gaugeValue(t, families, "liveness_operator_face_requests_total",
			map[string]string{"account": account, "operation": "CreateLivenessSession", "code": "2xx"}), account)
	}
	require.Positive(t, gaugeValue(t, families, "liveness_operator_face_requests_total",
		map[string]string{"account": "FaceAccount/" + namespace + "/team", "operation": "DeleteLivenessSession", "code": "2xx"}))
	require.Equal(t, 1.0, gaugeValue(t, families, "liveness_operator_account_ready",
		map[string]string{"account": "FaceAccount/" + namespace + "/team", "reason": facev1.ReasonCredentialsValid}))
	require.Equal(t, 0.0, gaugeValue(t, families, "liveness_operator_quota_granted_during_pause_total",
		map[string]string{"account": "default"}))
	require.Equal(t, 0.0, gaugeValue(t, families, "liveness_operator_sessions", map[string]string{"phase": "ready"}))

	require.NotContains(t, body, emulatorKey, "no key in any metric")
	require.NotContains(t, body, token, "no token in any metric")
	require.NotContains(t, body, onTeam.Status.SessionID, "no session id in any label")
}

func newSession(name, deviceID string, account *facev1.AccountReference) *facev1.LivenessSession {
	return &facev1.LivenessSession{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec: facev1.LivenessSessionSpec{OperationMode: facev1.OperationModePassive, DeviceCorrelationID: deviceID, AccountRef: account}}
}

// waitFor polls the session until ok holds.
func waitFor(t *testing.T, c client.Client, ls *facev1.LivenessSession, what string, ok func(*facev1.LivenessSession) bool) {
	t.Helper()
	harness.Eventually(t, 60*time.Second, func() string {
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(ls), ls); err != nil {
			return err.Error()
		}
		if !ok(ls) {
			return ls.Name + " is not " + what
		}
		return ""
	})
}

// tokenOf reads the session's auth token from its token Secret, as the app server does.
func tokenOf(t *testing.T, c client.Client, ls *facev1.LivenessSession) string {
	t.Helper()
	s := &corev1.Secret{}
	require.NoError(t, c.Get(context.Background(), client.ObjectKey{Namespace: ls.Namespace, Name: ls.Status.TokenSecretName}, s))
	require.NotEmpty(t, s.Data["authToken"])
	return string(s.Data["authToken"])
}

// attempt plays the end user's device: a realface attempt with the session's token.
func attempt(t *testing.T, emulatorURL, token string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, emulatorURL+"/emulator/attempts", strings.NewReader(`{"livenessDecision":"realface"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// parseMetrics parses the text exposition format.
func parseMetrics(t *testing.T, body string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	return families
}

// exposed says whether a name a query uses is on /metrics: a family's own name, or a
// histogram's _bucket, _sum or _count series.
func exposed(families map[string]*dto.MetricFamily, name string) bool {
	if f, ok := families[name]; ok && len(f.Metric) > 0 {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, found := strings.CutSuffix(name, suffix)
		if f, ok := families[base]; found && ok && len(f.Metric) > 0 &&
			(f.GetType() == dto.MetricType_HISTOGRAM || (suffix != "_bucket" && f.GetType() == dto.MetricType_SUMMARY)) {
			return true
		}
	}
	return false
}

// histogramCount sums the observations of every series of a histogram.
func histogramCount(t *testing.T, families map[string]*dto.MetricFamily, name string) float64 {
	t.Helper()
	f, ok := families[name]
	require.True(t, ok, "no metric %s", name)
	require.Equal(t, dto.MetricType_HISTOGRAM, f.GetType(), name)
	var n float64
	for _, m := range f.Metric {
		n += float64(m.GetHistogram().GetSampleCount())
	}
	return n
}

// gaugeValue is the value of the one series of a gauge or counter with exactly these labels
// (as a subset: other labels may exist).
func gaugeValue(t *testing.T, families map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	f, ok := families[name]
	require.True(t, ok, "no metric %s", name)
	for _, m := range f.Metric {
		match := 0
		for _, l := range m.Label {
			if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
				match++
			}
		}
		if match != len(want) {
			continue
		}
		if m.Gauge != nil {
			return m.Gauge.GetValue()
		}
		return m.Counter.GetValue()
	}
	t.Fatalf("no series of %s with %v", name, want)
	return 0
}
