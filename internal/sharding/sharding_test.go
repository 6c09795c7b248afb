package sharding

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		sharded bool
		match   map[string]string
		nomatch map[string]string
		wantErr string
	}{
		{in: "", sharded: false},
		{in: Key + " in (shard1)", sharded: true, match: map[string]string{Key: "shard1"}, nomatch: map[string]string{Key: "shard2"}},
		{in: "!" + Key, sharded: true, match: map[string]string{}, nomatch: map[string]string{Key: "shard1"}},
		{in: Key + " in (shard1", wantErr: "--watch-label-selector"},
	} {
		sel, err := Parse(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "example") {
				t.Errorf("Parse(%q) error = %v, want one naming %q with an example", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		if (sel != nil) != tc.sharded {
			t.Errorf("Parse(%q) sharded = %v, want %v", tc.in, sel != nil, tc.sharded)
		}
		if tc.match != nil && !sel.Matches(labels.Set(tc.match)) {
			t.Errorf("%q does not match %v", tc.in, tc.match)
		}
		if tc.nomatch != nil && sel.Matches(labels.Set(tc.nomatch)) {
			t.Errorf("%q matches %v", tc.in, tc.nomatch)
		}
	}
}

func TestLeaderElectionIDIsOnePerShard(t *testing.T) {
	const base = "liveness-operator.face.liveness-operator.io"
	if got := LeaderElectionID(base, nil); got != base {
		t.Errorf("unsharded ID = %q, want %q", got, base)
	}
	parse := func(s string) labels.Selector {
		sel, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return sel
	}
	one, two := LeaderElectionID(base, parse(Key+" in (shard1)")), LeaderElectionID(base, parse(Key+" in (shard2)"))
	if one == two || one == base || two == base {
		t.Errorf("shard IDs %q and %q must differ from each other and from %q", one, two, base)
	}
	// Replicas of one shard may spell the selector differently; they must share the lease.
	if again := LeaderElectionID(base, parse(Key+"  in  ( shard1 )")); again != one {
		t.Errorf("the same selector gave %q and %q", one, again)
	}
	for _, id := range []string{one, two} {
		if errs := validation.IsDNS1123Subdomain(id); len(errs) > 0 {
			t.Errorf("%q is not a valid Lease name: %v", id, errs)
		}
	}
}
