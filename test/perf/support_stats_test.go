package perf

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"
)

// durations is a sample of latencies.
type durations []time.Duration

// pct is the p-th percentile (nearest rank), 0 for an empty sample.
func (d durations) pct(p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append(durations(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(rank, len(s)-1))]
}

// max is the largest value.
func (d durations) max() time.Duration { return d.pct(100) }

// ms formats a duration in milliseconds, or seconds when long.
func ms(d time.Duration) string {
	if d >= 10*time.Second {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

// verdict says whether a measured figure meets its bar.
func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**not met**"
}

// median is the middle value of v (the mean of the middle two for an even count); it sorts v.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// medianBy is the median of one figure over rows.
func medianBy[T any](rows []T, get func(T) float64) float64 {
	v := make([]float64, len(rows))
	for i, r := range rows {
		v[i] = get(r)
	}
	return median(v)
}
