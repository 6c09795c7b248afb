package controllers_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/utils/ptr"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// Invalid specs are rejected by the API server (CRD schema and CEL rules) with a message that
// says what to fix; no operator is needed for that.
func TestInvalidSpecsAreRejectedAtAdmission(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	cases := []struct {
		name   string
		mutate func(*facev1.LivenessSession)
		want   string
	}{
		{"both correlation id and set-in-client", func(ls *facev1.LivenessSession) { ls.Spec.DeviceCorrelationIDSetInClient = true },
			"set exactly one of spec.deviceCorrelationId"},
		{"neither correlation id nor set-in-client", func(ls *facev1.LivenessSession) { ls.Spec.DeviceCorrelationID = "" },
			"set exactly one of spec.deviceCorrelationId"},
		{"token lifetime too short", func(ls *facev1.LivenessSession) { ls.Spec.AuthTokenTimeToLiveInSeconds = 59 },
			"spec.authTokenTimeToLiveInSeconds: Invalid value: 59: spec.authTokenTimeToLiveInSeconds in body should be greater than or equal to 60"},
		{"token lifetime too long", func(ls *facev1.LivenessSession) { ls.Spec.AuthTokenTimeToLiveInSeconds = 86401 },
			"should be less than or equal to 86400"},
		{"unknown operation mode", func(ls *facev1.LivenessSession) { ls.Spec.OperationMode = "Active" },
			`spec.operationMode: Unsupported value: "Active": supported values: "Passive", "PassiveActive"`},
		{"unknown deletion policy", func(ls *facev1.LivenessSession) { ls.Spec.DeletionPolicy = "Keep" },
			`supported values: "Delete", "Orphan"`},
		{"malformed model version", func(ls *facev1.LivenessSession) { ls.Spec.LivenessModelVersion = "latest" },
			"spec.livenessModelVersion"},
		{"secret name not a DNS name", func(ls *facev1.LivenessSession) { ls.Spec.TokenSecretName = "Token_Secret" },
			"spec.tokenSecretName"},
		{"token Secret template sets the operator's label", func(ls *facev1.LivenessSession) {
			ls.Spec.TokenSecretTemplate = &facev1.SecretTemplate{Labels: map[string]facev1.LabelValue{facev1.LabelManagedBy: "me"}}
		}, "may not set the operator's own labels"},
		{"token Secret template sets an operator annotation", func(ls *facev1.LivenessSession) {
			ls.Spec.TokenSecretTemplate = &facev1.SecretTemplate{Annotations: map[string]facev1.AnnotationValue{facev1.AnnotationSignature: "x"}}
		}, "may not set the operator's own annotations"},
		{"token Secret template label value invalid", func(ls *facev1.LivenessSession) {
			ls.Spec.TokenSecretTemplate = &facev1.SecretTemplate{Labels: map[string]facev1.LabelValue{"team": "-bad-"}}
		}, "spec.tokenSecretTemplate.labels.team"},
		{"token Secret template label key invalid", func(ls *facev1.LivenessSession) {
			ls.Spec.TokenSecretTemplate = &facev1.SecretTemplate{Labels: map[string]facev1.LabelValue{"no spaces": "x"}}
		}, "every key must be a valid label key"},
		{"session image Secret named like the default token Secret", func(ls *facev1.LivenessSession) {
			ls.Spec.EnableSessionImage, ls.Spec.SessionImageSecretName = true, ls.Name
		}, "spec.sessionImageSecretName must differ from the token Secret's name"},
		{"session image Secret named like the token Secret", func(ls *facev1.LivenessSession) {
			ls.Spec.EnableSessionImage, ls.Spec.TokenSecretName, ls.Spec.SessionImageSecretName = true, "tok", "tok"
		}, "spec.sessionImageSecretName must differ from the token Secret's name"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ls := newSession(ns, "invalid")
			tc.mutate(ls)
			err := k8sClient.Create(context.Background(), ls)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

// A cloud session cannot change, so neither can the spec, except deletionPolicy.
func TestSpecIsImmutable(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	ctx := context.Background()
	ls := newSession(ns, "fixed")
	require.NoError(t, k8sClient.Create(ctx, ls))

	cases := []struct {
		name   string
		mutate func(*facev1.LivenessSession)
		want   string
	}{
		{"operation mode", func(ls *facev1.LivenessSession) { ls.Spec.OperationMode = facev1.OperationModePassiveActive },
			"spec.operationMode is immutable"},
		{"token lifetime", func(ls *facev1.LivenessSession) { ls.Spec.AuthTokenTimeToLiveInSeconds = 120 },
			"spec.authTokenTimeToLiveInSeconds is immutable"},
		{"correlation id", func(ls *facev1.LivenessSession) { ls.Spec.DeviceCorrelationID = "other-device" },
			"spec.deviceCorrelationId is immutable"},
		{"correlation id to set-in-client", func(ls *facev1.LivenessSession) {
			ls.Spec.DeviceCorrelationID = ""
			ls.Spec.DeviceCorrelationIDSetInClient = true
		}, "is immutable"},
		{"session image", func(ls *facev1.LivenessSession) { ls.Spec.EnableSessionImage = true },
			"spec.enableSessionImage is immutable"},
		{"model version added", func(ls *facev1.LivenessSession) { ls.Spec.LivenessModelVersion = "2024-11-15" },
			"spec.livenessModelVersion is immutable"},
		{"token secret name", func(ls *facev1.LivenessSession) { ls.Spec.TokenSecretName = "elsewhere" },
			"spec.tokenSecretName is immutable"},
		{"account added", func(ls *facev1.LivenessSession) { ls.Spec.AccountRef = &facev1.AccountReference{Name: "other"} },
			"spec.accountRef is immutable"},
		{"session image Secret added", func(ls *facev1.LivenessSession) {
			ls.Spec.EnableSessionImage = true
			ls.Spec.SessionImageSecretName = "image"
		}, "spec.enableSessionImage is immutable"},
		{"token Secret template added", func(ls *facev1.LivenessSession) {
			ls.Spec.TokenSecretTemplate = &facev1.SecretTemplate{Labels: map[string]facev1.LabelValue{"team": "a"}}
		}, "spec.tokenSecretTemplate is immutable"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cur := get(t, ns, "fixed")
			base := cur.DeepCopy()
			tc.mutate(cur)
			err := k8sClient.Patch(ctx, cur, clientMergeFrom(base))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.Contains(t, err.Error(), "delete and recreate the LivenessSession")
		})
	}

	// What may change: deletionPolicy and ttlSecondsAfterFinished, and metadata (the rule
	// compares spec fields only).
	for what, mutate := range map[string]func(*facev1.LivenessSession){
		"deletionPolicy":          func(ls *facev1.LivenessSession) { ls.Spec.DeletionPolicy = facev1.DeletionPolicyOrphan },
		"ttlSecondsAfterFinished": func(ls *facev1.LivenessSession) { ls.Spec.TTLSecondsAfterFinished = ptr.To[int32](60) },
		"labels":                  func(ls *facev1.LivenessSession) { ls.Labels = map[string]string{"team": "a"} },
	} {
		cur := get(t, ns, "fixed")
		base := cur.DeepCopy()
		mutate(cur)
		require.NoError(t, k8sClient.Patch(ctx, cur, clientMergeFrom(base)), "%s may change", what)
	}
}

// Defaults fill what a minimal manifest leaves out.
func TestDefaults(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	ls := &facev1.LivenessSession{}
	ls.Namespace, ls.Name = ns, "minimal"
	ls.Spec.DeviceCorrelationIDSetInClient = true
	require.NoError(t, k8sClient.Create(context.Background(), ls))
	got := get(t, ns, "minimal")
	require.Equal(t, facev1.OperationModePassive, got.Spec.OperationMode)
	require.Equal(t, int32(600), got.Spec.AuthTokenTimeToLiveInSeconds)
	require.Equal(t, facev1.DeletionPolicyDelete, got.Spec.DeletionPolicy)
}
