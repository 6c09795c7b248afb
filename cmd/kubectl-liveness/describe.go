package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

func (p *plugin) describeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a session: outcome, Face session, account, times, conditions and attempts",
		Long: "Show a session's outcome, Face session, account, token Secret and expiry, times, conditions and\n" +
			"attempts. It never reads or shows the token.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := p.client()
			if err != nil {
				return err
			}
			ls, err := c.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			describe(p.streams.Out, ls, time.Now())
			return nil
		},
	}
}

// describe writes the session for a human: fields first, then the conditions and attempts
// as tables. It has no access to the token: only the token Secret's name is shown.
func describe(out io.Writer, ls *facev1.LivenessSession, now time.Time) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	st := &ls.Status
	field := func(name, value string) { fmt.Fprintf(w, "%s:\t%s\n", name, value) }
	field("Name", ls.Name)
	field("Namespace", ls.Namespace)
	field("Labels", labels(ls.Labels))
	field("Kind", kind(&ls.Spec))
	field("Operation mode", orDefault(string(ls.Spec.OperationMode), "Passive"))
	if ls.Spec.DeviceCorrelationID != "" {
		field("Device correlation id", ls.Spec.DeviceCorrelationID)
	} else {
		field("Device correlation id", "set in the client SDK")
	}
	field("Account", account(ls))
	outcome := orDefault(string(st.Outcome), "none yet")
	if st.LivenessDecision != "" {
		outcome += " (" + st.LivenessDecision + ")"
	}
	field("Outcome", outcome)
	if st.SessionID != "" {
		field("Face session", fmt.Sprintf("%s (status %s, model %s)", st.SessionID, orDefault(st.SessionStatus, "unknown"), orDefault(st.ModelVersion, "unknown")))
	} else {
		field("Face session", "not created yet")
	}
	secret := orDefault(st.TokenSecretName, ls.TokenSecretNameOrDefault()+" (not published yet)")
	if st.AuthTokenExpiresAt != nil {
		secret += ", token expires " + when(st.AuthTokenExpiresAt, now)
	}
	field("Token Secret", secret)
	field("Created", when(&ls.CreationTimestamp, now))
	if st.CreatedAt != nil {
		field("Face session created", when(st.CreatedAt, now))
	}
	if st.CompletedAt != nil {
		field("Completed", when(st.CompletedAt, now))
	}
	if ls.DeletionTimestamp != nil {
		field("Deleting since", when(ls.DeletionTimestamp, now))
	}
	field("Deletion policy", orDefault(string(ls.Spec.DeletionPolicy), "Delete"))
	if st.UnconfirmedCreates > 0 {
		field("Unconfirmed creates", fmt.Sprintf("%d (see docs/design.md)", st.UnconfirmedCreates))
	}
	_ = w.Flush()

	fmt.Fprintln(out, "\nConditions:")
	if len(st.Conditions) == 0 {
		fmt.Fprintln(out, "  none yet (is the operator running?)")
	} else {
		w = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "  TYPE\tSTATUS\tREASON\tSINCE\tMESSAGE")
		for _, c := range st.Conditions {
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\n", c.Type, c.Status, c.Reason, age(c.LastTransitionTime, now), c.Message)
		}
		_ = w.Flush()
	}

	if len(st.VerifyReferences) > 0 {
		fmt.Fprintln(out, "\nReference image as Face saw it:")
		w = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "  TYPE\tQUALITY\tFACE (left,top widthxheight)")
		for _, r := range st.VerifyReferences {
			fmt.Fprintf(w, "  %s\t%s\t%s\n", r.ReferenceType, orDefault(r.QualityForRecognition, "-"), rect(r.FaceRectangle))
		}
		_ = w.Flush()
	}

	fmt.Fprintln(out, "\nAttempts:")
	if len(st.Attempts) == 0 {
		fmt.Fprintln(out, "  none yet")
		return
	}
	w = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "  ID\tSTATUS\tDECISION\tMATCH\tIDENTICAL\tFACE\tERROR")
	for _, a := range st.Attempts {
		identical := "-"
		if a.IsIdentical != nil {
			identical = fmt.Sprint(*a.IsIdentical)
		}
		errText := "-"
		if a.ErrorCode != "" {
			errText = a.ErrorCode + ": " + a.ErrorMessage
		}
		fmt.Fprintf(w, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\n", a.AttemptID, a.Status, orDefault(a.LivenessDecision, "-"),
			orDefault(a.MatchConfidence, "-"), identical, rect(a.FaceRectangle), errText)
	}
	_ = w.Flush()
}

func kind(spec *facev1.LivenessSessionSpec) string {
	v := spec.Verification
	if v == nil {
		return "liveness"
	}
	ref := v.ReferenceImage
	var src string
	switch {
	case ref.SecretKeyRef != nil:
		src = fmt.Sprintf("key %s of Secret %s", ref.SecretKeyRef.Key, ref.SecretKeyRef.Name)
	case ref.ConfigMapKeyRef != nil:
		src = fmt.Sprintf("key %s of ConfigMap %s", ref.ConfigMapKeyRef.Key, ref.ConfigMapKeyRef.Name)
	}
	out := "liveness with verify (reference: " + src
	if v.ConfidenceThreshold != "" {
		out += ", threshold " + v.ConfidenceThreshold
	}
	return out + ")"
}

// account is the account the session was created with, or the one it asks for.
func account(ls *facev1.LivenessSession) string {
	ref := ls.Status.Account
	if ref == nil {
		ref = ls.Spec.AccountRef
	}
	if ref == nil {
		return "the manager's default account"
	}
	return fmt.Sprintf("%s %s", orDefault(string(ref.Kind), string(facev1.AccountKindFaceAccount)), ref.Name)
}

func labels(m map[string]string) string {
	if len(m) == 0 {
		return "<none>"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

func rect(r *facev1.FaceRectangle) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%d,%d %dx%d", r.Left, r.Top, r.Width, r.Height)
}

// when is an RFC 3339 time with how long ago (or from now) it is.
func when(t *metav1.Time, now time.Time) string {
	d := now.Sub(t.Time)
	rel := duration.HumanDuration(d) + " ago"
	if d < 0 {
		rel = "in " + duration.HumanDuration(-d)
	}
	return t.UTC().Format(time.RFC3339) + " (" + rel + ")"
}

func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
