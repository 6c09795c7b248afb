package perf

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// failoverBar is how soon after the leader's SIGKILL the other replica must be reconciling.
// A killed leader never releases its Lease, so a standby waits it out: bin/manager's lease
// duration (--leader-elect-lease-duration, 10 s by default) plus a retry period (2 s).
const failoverBar = 20 * time.Second

// failover is one SIGKILL of the elected leader.
type failover struct {
	Killed, NewLeader int           // indexes of the killed replica and of the one that took over
	Lease             time.Duration // from the kill to the new holder's acquireTime in the Lease
	Reconcile         time.Duration // from the kill to the new leader's first finished reconcile
	SinceRenew        time.Duration // from the killed leader's last renewal to the new acquisition
}

// leaderResult is what the leader-election scenario measured.
type leaderResult struct {
	chaosOutcome
	Failovers []failover
}

// worst is the longest failover, by first reconcile.
func (r leaderResult) worst() failover {
	var w failover
	for _, f := range r.Failovers {
		if f.Reconcile > w.Reconcile {
			w = f
		}
	}
	return w
}

// runLeaderKills replaces the single manager by two replicas with leader election, creates the
// sessions paced over LeaderKills x LeaderKillEvery, and SIGKILLs whichever replica leads every
// LeaderKillEvery (the first half an interval in), restarting it at once as the kubelet would.
func runLeaderKills(ctx context.Context, tb testing.TB, sys system, cs chaosScale) (leaderResult, error) {
	var res leaderResult
	sys.mgr.stop()
	if err := sys.c.grantLeaderElection(ctx, perfNamespace); err != nil {
		return res, err
	}
	args := scale{ManagerArgs: []string{"--leader-elect", "--leader-election-namespace=" + perfNamespace}}
	replicas := []*managerProc{
		newNamedManager(tb, sys.c, sys.fe.URL, faceKey, args, "replica-a"),
		newNamedManager(tb, sys.c, sys.fe.URL, faceKey, args, "replica-b"),
	}
	for _, r := range replicas {
		if err := r.start(); err != nil {
			return res, err
		}
	}
	defer func() {
		for _, r := range replicas {
			r.stop()
		}
	}()
	if _, err := waitLeader(replicas, time.Minute); err != nil {
		return res, err
	}

	sessions := newSessions("leader", cs.Sessions)
	start := time.Now()
	createErr := make(chan error, 1)
	go func() {
		createErr <- createPaced(ctx, sys.c, sessions, time.Duration(cs.LeaderKills)*cs.LeaderKillEvery)
	}()
	var lastFault time.Time
	for k := range cs.LeaderKills {
		time.Sleep(time.Until(start.Add(cs.LeaderKillEvery/2 + time.Duration(k)*cs.LeaderKillEvery)))
		lastFault = time.Now()
		f, err := killLeader(ctx, sys.c, replicas)
		if err != nil {
			return res, err
		}
		res.Failovers = append(res.Failovers, f)
	}
	if err := <-createErr; err != nil {
		return res, err
	}
	res.chaosOutcome = finishScenario(ctx, sys, sessions, lastFault, len(res.Failovers))
	return res, nil
}

// killLeader SIGKILLs the leading replica, restarts it, and measures how long until another
// holder acquired the Lease and until the new leader finished its first reconcile.
func killLeader(ctx context.Context, c *cluster, replicas []*managerProc) (failover, error) {
	leader, err := waitLeader(replicas, time.Minute)
	if err != nil {
		return failover{}, err
	}
	holder, _, renewed, err := c.lease(ctx, perfNamespace)
	if err != nil {
		return failover{}, err
	}
	// A standby reconciles nothing, so any reconcile beyond its count now is its first as
	// leader; the killed replica restarts from zero.
	baseline := make([]float64, len(replicas))
	for i, r := range replicas {
		if i != leader {
			baseline[i] = r.state().Reconciles
		}
	}
	killedAt := time.Now()
	replicas[leader].kill()
	if err := replicas[leader].start(); err != nil {
		return failover{}, err
	}
	f := failover{Killed: leader, NewLeader: -1}
	firstReconcile := make([]time.Time, len(replicas))
	for deadline := killedAt.Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		now := time.Now()
		for i, r := range replicas {
			st := r.state()
			if firstReconcile[i].IsZero() && st.Reconciles > baseline[i] {
				firstReconcile[i] = now
			}
			if st.Leader && f.NewLeader < 0 {
				f.NewLeader = i
			}
		}
		if h, acquired, _, err := c.lease(ctx, perfNamespace); err == nil && h != "" && h != holder && f.Lease == 0 {
			if !acquired.After(killedAt) {
				acquired = now // the holder changed without an acquireTime of its own
			}
			f.Lease, f.SinceRenew = acquired.Sub(killedAt), acquired.Sub(renewed)
		}
		if f.Lease > 0 && f.NewLeader >= 0 && !firstReconcile[f.NewLeader].IsZero() {
			f.Reconcile = firstReconcile[f.NewLeader].Sub(killedAt)
			return f, nil
		}
	}
	return f, fmt.Errorf("no failover within 90 s of killing replica %d (lease holder before: %s)", leader, holder)
}
