package face

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/prometheus/client_golang/prometheus"
)

// CallMetrics count the HTTP requests the Face client sends, per try (a GET retried after a 503
// is two requests: both reached Face and both count against its quota). Every label is bounded:
// account is the account key given in Options.AccountLabel (bounded by the number of accounts),
// operation is one of the client's operation names (eight, eleven with v1.3's settings), code
// is a status class. Nothing from a request (path, session id, header) ever becomes a label.
type CallMetrics struct {
	// Requests counts requests by account, operation and code (see StatusClass).
	Requests *prometheus.CounterVec
	// Duration is the time from sending a request to its response headers (the body is read
	// by the caller, outside the pipeline), or to the transport error, by account and operation.
	Duration *prometheus.HistogramVec
}

// NewCallMetrics creates the Face request metrics and registers them with reg (the manager
// passes controller-runtime's metrics.Registry); a nil reg leaves them unregistered, for tests.
func NewCallMetrics(reg prometheus.Registerer) *CallMetrics {
	m := &CallMetrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "liveness_operator_face_requests_total",
			Help: "HTTP requests sent to Azure AI Face, per try, by account, operation and status class (2xx, 3xx, 4xx, 429, 5xx, error: no response).",
		}, []string{"account", "operation", "code"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "liveness_operator_face_request_duration_seconds",
			Help: "Time from sending a Face request to its response headers (or transport error), per try, by account and operation.",
			// Face answers liveness calls in tens to hundreds of milliseconds; the top buckets
			// catch a hung connection running into the per-try timeout (30s by default).
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"account", "operation"}),
	}
	if reg != nil {
		reg.MustRegister(m.Requests, m.Duration)
	}
	return m
}

// Forget drops an account's series, for when the account is removed: a deleted FaceAccount
// must not keep showing its last counts forever.
func (m *CallMetrics) Forget(account string) {
	if m == nil {
		return
	}
	m.Requests.DeletePartialMatch(prometheus.Labels{"account": account})
	m.Duration.DeletePartialMatch(prometheus.Labels{"account": account})
}

// StatusClass is the code label of a request: "429" on its own (throttling is what a quota
// dashboard looks for), "2xx", "3xx", "4xx" or "5xx" by hundreds, and "error" when no response
// arrived (transport failure, timeout, cancellation) or the status is outside 200..599.
func StatusClass(resp *http.Response, err error) string {
	if err != nil || resp == nil {
		return "error"
	}
	switch c := resp.StatusCode; {
	case c == http.StatusTooManyRequests:
		return "429"
	case c >= 200 && c <= 599:
		return strconv.Itoa(c/100) + "xx"
	}
	return "error"
}

// operationKey carries the operation name from HTTPClient.do to the metrics policy.
type operationKey struct{}

// withOperation records the operation a request belongs to, for the metrics label.
func withOperation(ctx context.Context, op string) context.Context {
	return context.WithValue(ctx, operationKey{}, op)
}

// operationOf is the operation of a request; "unknown" for a request that did not come through
// HTTPClient.do (there is none today; the label stays bounded whatever happens).
func operationOf(ctx context.Context) string {
	if op, ok := ctx.Value(operationKey{}).(string); ok {
		return op
	}
	return "unknown"
}

// metricsPolicy observes every try. It runs after the retry policy and the auth policy, so it
// sees each request that goes on the wire, and only those: a token that could not be obtained
// sends nothing and counts nothing.
type metricsPolicy struct {
	m       *CallMetrics
	account string
	now     func() time.Time
}

// newMetricsPolicy returns the policy for one client, or nil when metrics are off.
func newMetricsPolicy(m *CallMetrics, account string) policy.Policy {
	if m == nil {
		return nil
	}
	return &metricsPolicy{m: m, account: account, now: time.Now}
}

// Do implements policy.Policy.
func (p *metricsPolicy) Do(req *policy.Request) (*http.Response, error) {
	start := p.now()
	resp, err := req.Next()
	op := operationOf(req.Raw().Context())
	p.m.Duration.WithLabelValues(p.account, op).Observe(p.now().Sub(start).Seconds())
	p.m.Requests.WithLabelValues(p.account, op, StatusClass(resp, err)).Inc()
	return resp, err
}
