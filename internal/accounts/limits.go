package accounts

import (
	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/quota"
)

// LimitsFor turns an account's quota into limiter limits (default S0: 10/s). It does not
// validate them: Registry.Set is the one place limits are checked, for the default account and
// every FaceAccount alike (the CRD's bounds already keep user values in range).
func LimitsFor(q *facev1.FaceQuota) quota.Limits {
	if q == nil {
		return quota.DefaultLimits()
	}
	var l quota.Limits
	switch {
	case q.RequestsPerMinute != nil:
		l = quota.PerMinute(int(*q.RequestsPerMinute))
	case q.RequestsPerSecond != nil:
		l = quota.Limits{RequestsPerSecond: float64(*q.RequestsPerSecond)}
	default:
		l = quota.DefaultLimits()
	}
	if q.Burst != nil {
		l.Burst = int(*q.Burst)
	}
	return l
}
