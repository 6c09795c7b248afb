package perf

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// envOverrides reads the LIVENESS_PERF_* and LIVENESS_CHAOS_* overrides of a scale: each
// method sets its field from the named variable when that is set, and the first malformed
// value is kept in err (later ones are then not read).
type envOverrides struct{ err error }

// read parses the variable with parse when it is set and nothing failed before.
func (o *envOverrides) read(name string, parse func(string) error) {
	if v := os.Getenv(name); v != "" && o.err == nil {
		if err := parse(v); err != nil {
			o.err = fmt.Errorf("%s=%q: %w", name, v, err)
		}
	}
}

func (o *envOverrides) int(name string, p *int) {
	o.read(name, func(v string) (err error) { *p, err = strconv.Atoi(v); return err })
}

func (o *envOverrides) float(name string, p *float64) {
	o.read(name, func(v string) (err error) { *p, err = strconv.ParseFloat(v, 64); return err })
}

func (o *envOverrides) duration(name string, p *time.Duration) {
	o.read(name, func(v string) (err error) { *p, err = time.ParseDuration(v); return err })
}

// floats reads a comma-separated list of numbers.
func (o *envOverrides) floats(name string, p *[]float64) {
	o.read(name, func(v string) error {
		var out []float64
		for _, f := range strings.Split(v, ",") {
			r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		*p = out
		return nil
	})
}
