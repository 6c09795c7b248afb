package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/pkg/livenessclient"
)

// waitTarget is what wait waits for: the token published (ready), a final outcome
// (completed), or a final outcome among a set (outcome=A,B).
type waitTarget struct {
	kind     string // "ready", "completed" or "outcome"
	outcomes []facev1.Outcome
}

// parseWaitTarget reads --for.
func parseWaitTarget(v string) (waitTarget, error) {
	lower := strings.ToLower(v)
	switch {
	case lower == "ready" || lower == "condition=ready":
		return waitTarget{kind: "ready"}, nil
	case lower == "completed" || lower == "condition=completed":
		return waitTarget{kind: "completed"}, nil
	case strings.HasPrefix(lower, "outcome="):
		t := waitTarget{kind: "outcome"}
		for _, o := range strings.Split(v[len("outcome="):], ",") {
			if o = strings.TrimSpace(o); o != "" {
				t.outcomes = append(t.outcomes, facev1.Outcome(o))
			}
		}
		if len(t.outcomes) > 0 {
			return t, nil
		}
	}
	return waitTarget{}, fmt.Errorf("--for must be ready, completed or outcome=OUTCOME[,OUTCOME...] (got %q)", v)
}

func (p *plugin) waitCommand() *cobra.Command {
	var (
		target  string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "wait NAME --for=ready|completed|outcome=OUTCOME[,OUTCOME...]",
		Short: "Wait until a session is Ready, Completed, or has one of the given outcomes",
		Long: "Wait, with a watch, until the session is Ready (its token Secret is published), Completed (its\n" +
			"outcome is final), or has a final outcome among the given ones (Live, Verified, NotVerified, Spoof,\n" +
			"Uncertain, Failed, Expired). It fails when the session stalls, is deleted, ends with another\n" +
			"outcome, or the timeout passes.",
		Example: "  kubectl liveness wait login-42 --for=ready\n" +
			"  kubectl liveness wait kyc-7 --for=outcome=Verified --timeout=2m",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseWaitTarget(target)
			if err != nil {
				return err
			}
			c, err := p.client()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			msg, err := waitFor(ctx, c, args[0], t)
			if errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("timed out after %s waiting for livenesssession/%s to be %s", timeout, args[0], target)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(p.streams.Out, "livenesssession/%s %s\n", args[0], msg)
			return nil
		},
	}
	cmd.Flags().StringVar(&target, "for", "", "ready, completed, or outcome=OUTCOME[,OUTCOME...]")
	cmd.Flags().DurationVar(&timeout, "timeout", 60*time.Second, "how long to wait")
	_ = cmd.MarkFlagRequired("for")
	return cmd
}

// waitFor waits for the target and says what was reached.
func waitFor(ctx context.Context, c *livenessclient.Client, name string, t waitTarget) (string, error) {
	if t.kind == "ready" {
		ls, err := c.Wait(ctx, name, func(ls *facev1.LivenessSession) (bool, error) {
			if meta.IsStatusConditionTrue(ls.Status.Conditions, facev1.ConditionStalled) {
				s := meta.FindStatusCondition(ls.Status.Conditions, facev1.ConditionStalled)
				return false, &livenessclient.StalledError{Name: ls.Name, Reason: s.Reason, Message: s.Message}
			}
			return meta.IsStatusConditionTrue(ls.Status.Conditions, facev1.ConditionReady), nil
		})
		if err != nil {
			return "", err
		}
		return "is Ready (token in Secret " + ls.Status.TokenSecretName + ")", nil
	}
	r, err := c.Outcome(ctx, name)
	if err != nil {
		return "", err
	}
	if t.kind == "outcome" && !slices.Contains(t.outcomes, r.Outcome) {
		return "", fmt.Errorf("livenesssession/%s completed with outcome %s, not %s", name, r.Outcome, joinOutcomes(t.outcomes))
	}
	return "completed: " + string(r.Outcome), nil
}

func joinOutcomes(os []facev1.Outcome) string {
	s := make([]string, len(os))
	for i, o := range os {
		s[i] = string(o)
	}
	return strings.Join(s, " or ")
}
