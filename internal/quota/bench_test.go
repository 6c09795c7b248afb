package quota

import (
	"context"
	"testing"
)

// BenchmarkAcquireUncontended measures the limiter's cost when a token is always available: the
// overhead every Face call pays. It is a mutex and a clock read, far below one HTTP exchange.
func BenchmarkAcquireUncontended(b *testing.B) {
	l := NewLimiter(Limits{RequestsPerSecond: 1e9, Burst: MaxBurst, Margin: NoMargin}, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Acquire(ctx, High); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAcquireUncontendedParallel is the same with every CPU calling at once, as several
// workers sharing an account do; the single mutex is the cost being measured.
func BenchmarkAcquireUncontendedParallel(b *testing.B) {
	l := NewLimiter(Limits{RequestsPerSecond: 1e9, Burst: MaxBurst, Margin: NoMargin}, nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Acquire(ctx, Low); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
