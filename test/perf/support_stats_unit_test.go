package perf

import "testing"

// TestMedian checks the figure every report quotes from its rounds.
func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{9, 1, 5}, 5},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(append([]float64(nil), tc.in...)); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	type row struct{ a, b float64 }
	rows := []row{{1, 30}, {2, 10}, {3, 20}}
	if got := medianBy(rows, func(r row) float64 { return r.b }); got != 20 {
		t.Errorf("medianBy over b = %v, want 20", got)
	}
}
