package quota

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A flow with a backlog does not make a newcomer wait for it: the tokens go round robin across
// the flows with work, so the quiet flow's call is served within one round.
func TestNewFlowWaitsOneRoundNotTheBacklog(t *testing.T) {
	l, fc := newTestLimiter(t, exact(Limits{RequestsPerSecond: 10, Burst: 1}))
	require.True(t, l.TryAcquire(High))
	out := make(chan grant, 64)
	noisy := WithFlow(context.Background(), "noisy")
	for i := range 20 {
		acquireAsync(t, l, noisy, High, fmt.Sprintf("noisy-%d", i), out)
	}
	acquireAsync(t, l, WithFlow(context.Background(), "quiet"), High, "quiet", out)

	var order []string
	for range 3 {
		step(fc, l, 100*time.Millisecond)
		order = append(order, receive(t, out).id)
	}
	require.Equal(t, []string{"noisy-0", "quiet", "noisy-1"}, order,
		"the quiet flow is served after one noisy call, not after twenty")
	s := l.Stats()
	require.Equal(t, 1, s.High.Lanes, "only the noisy lane still waits")
	require.Equal(t, int64(2), s.High.GrantedShared, "both grants made while two lanes waited were shared")
}

// Priorities stay strict across flows: one flow's polls never go before another flow's creates.
func TestFairQueueKeepsPrioritiesAcrossFlows(t *testing.T) {
	l, fc := newTestLimiter(t, exact(Limits{RequestsPerSecond: 10, Burst: 1}))
	require.True(t, l.TryAcquire(High))
	out := make(chan grant, 8)
	a, b := WithFlow(context.Background(), "a"), WithFlow(context.Background(), "b")
	acquireAsync(t, l, a, Low, "a-poll", out)
	acquireAsync(t, l, b, High, "b-create-1", out)
	acquireAsync(t, l, b, High, "b-create-2", out)

	var order []string
	for range 3 {
		step(fc, l, 100*time.Millisecond)
		order = append(order, receive(t, out).id)
	}
	require.Equal(t, []string{"b-create-1", "b-create-2", "a-poll"}, order)
}

// Work-conserving: a flow alone gets every token, at the account's full rate.
func TestFlowAloneUsesTheWholeQuota(t *testing.T) {
	l, fc := newTestLimiter(t, exact(Limits{RequestsPerSecond: 10, Burst: 1}))
	require.True(t, l.TryAcquire(High))
	out := make(chan grant, 16)
	alone := WithFlow(context.Background(), "alone")
	for i := range 10 {
		acquireAsync(t, l, alone, High, fmt.Sprintf("c%d", i), out)
	}
	for i := range 10 {
		step(fc, l, 100*time.Millisecond)
		require.Equal(t, fmt.Sprintf("c%d", i), receive(t, out).id, "one grant every 100 ms, in order")
	}
	require.Equal(t, int64(11), l.Stats().High.Granted)
}

// A capped namespace never gets more than its share of the account, even with the rest of
// the quota idle; four namespaces at a quarter each still use all of it.
func TestFlowShareCapsANamespace(t *testing.T) {
	l, fc := newTestLimiter(t, exact(Limits{RequestsPerSecond: 10, Burst: 1, FlowShare: 0.25}))
	require.True(t, l.TryAcquire(High))
	out := make(chan grant, 64)
	for i := range 10 {
		acquireAsync(t, l, WithFlow(context.Background(), "alone"), High, fmt.Sprintf("alone-%d", i), out)
	}
	for range 20 { // 2 s of the account's tokens
		step(fc, l, 100*time.Millisecond)
	}
	require.Equal(t, int64(1+5), l.Stats().High.Granted, "2 s at a quarter of 10/s is 5 tokens, with the rest idle")
	for range 5 {
		require.Equal(t, "alone", receive(t, out).id[:5])
	}

	l, fc = newTestLimiter(t, exact(Limits{RequestsPerSecond: 10, Burst: 1, FlowShare: 0.25}))
	require.True(t, l.TryAcquire(High))
	out = make(chan grant, 64)
	for _, flow := range []string{"a", "b", "c", "d"} {
		for i := range 10 {
			acquireAsync(t, l, WithFlow(context.Background(), flow), High, fmt.Sprintf("%s-%d", flow, i), out)
		}
	}
	perFlow := map[string]int{}
	for range 20 {
		step(fc, l, 100*time.Millisecond)
		g := receive(t, out)
		require.NoError(t, g.err)
		perFlow[g.id[:1]]++
	}
	require.Equal(t, map[string]int{"a": 5, "b": 5, "c": 5, "d": 5}, perFlow, "four quarters use the whole quota, a quarter each")
	require.Error(t, Limits{RequestsPerSecond: 10, FlowShare: 1.5}.Validate(), "a share above 1 is refused")
}
