// Package controllers wires the operator's controllers into a manager: Setup registers the
// LivenessSession controller (controllers/session) and the FaceAccount and ClusterFaceAccount
// controllers (controllers/account) around one shared identity cache, and CacheOptions keeps
// the manager's cache small. The manager binary and the test harness both call Setup, so tests
// run the production wiring.
package controllers

import (
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/controllers/account"
	"github.com/liveness-operator/liveness-operator/controllers/session"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/endpoints"
	"github.com/liveness-operator/liveness-operator/internal/identity"
	"github.com/liveness-operator/liveness-operator/internal/tokenmac"
)

// The manager checks every metrics scrape with the API server (--metrics-secure).
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// SetupOptions configure Setup.
type SetupOptions struct {
	// Registry holds the Face accounts (the default account, if any, already set).
	Registry *accounts.Registry
	// Events records events; default: the manager's recorder named "liveness-operator".
	Events events.EventRecorder
	// Metrics; default: unregistered metrics.
	Metrics *session.Metrics
	// Clock; default: the real clock.
	Clock clock.PassiveClock
	// MaxConcurrentReconciles of the LivenessSession controller (default 16).
	MaxConcurrentReconciles int
	// WatchNamespaces limits the identity cache to the namespaces the manager's cache watches
	// (empty: all).
	WatchNamespaces []string
	// OperatorNamespace holds ClusterFaceAccounts' key Secrets.
	OperatorNamespace string
	// Credentials builds Entra ID credentials (default account.AzureCredentials).
	Credentials account.CredentialFactory
	// EntraExchange configures how FaceAccounts' ServiceAccount tokens are exchanged for Entra
	// ID tokens (account.Reconciler.EntraExchange); zero: Azure's public cloud.
	EntraExchange azidentity.ClientAssertionCredentialOptions
	// DefaultTTLAfterFinished removes finished sessions after that long unless their spec says
	// otherwise; 0 keeps them.
	DefaultTTLAfterFinished time.Duration
	// TokenSigner signs and verifies token Secrets (tokenmac.LoadOrCreate). Required.
	TokenSigner *tokenmac.Signer
	// AllowedEndpoints are the Face hosts namespaced FaceAccounts may use (default:
	// endpoints.Default(), Azure's Cognitive Services hosts).
	AllowedEndpoints *endpoints.AllowList
	// SkipClusterFaceAccounts leaves ClusterFaceAccounts unreconciled. Only tests that run
	// several managers against one API server set it: a cluster-scoped account would otherwise
	// be reconciled by every one of them.
	SkipClusterFaceAccounts bool
	// Shard is the manager's --watch-label-selector (nil: unsharded). The cache must be built
	// with the same selector (CacheOptions); here it only explains, in a session's condition,
	// why an account of another shard looks missing.
	Shard labels.Selector
}

// Setup registers the operator's controllers with the manager: LivenessSessions, FaceAccounts
// and ClusterFaceAccounts, sharing one identity cache. It returns the LivenessSession
// reconciler.
func Setup(mgr ctrl.Manager, o SetupOptions) (*session.Reconciler, error) {
	if o.Events == nil {
		o.Events = mgr.GetEventRecorder("liveness-operator")
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	identities, err := identity.NewCache(mgr, o.WatchNamespaces)
	if err != nil {
		return nil, err
	}
	if err := addReadiness(mgr, identities); err != nil {
		return nil, fmt.Errorf("readiness check: %w", err)
	}
	r := &session.Reconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Face:                    accounts.AccountResolver{Registry: o.Registry, Client: mgr.GetClient(), Clock: o.Clock, Shard: o.Shard},
		Events:                  o.Events,
		Clock:                   o.Clock,
		Metrics:                 o.Metrics,
		MaxConcurrentReconciles: o.MaxConcurrentReconciles,
		Identities:              identities,
		TokenSigner:             o.TokenSigner,
		DefaultTTLAfterFinished: o.DefaultTTLAfterFinished,
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("LivenessSession controller: %w", err)
	}
	kinds := []facev1.AccountKind{facev1.AccountKindFaceAccount}
	if !o.SkipClusterFaceAccounts {
		kinds = append(kinds, facev1.AccountKindClusterFaceAccount)
	}
	for _, kind := range kinds {
		if err := (&account.Reconciler{
			Client:            mgr.GetClient(),
			APIReader:         mgr.GetAPIReader(),
			Registry:          o.Registry,
			Kind:              kind,
			OperatorNamespace: o.OperatorNamespace,
			Credentials:       o.Credentials,
			EntraExchange:     o.EntraExchange,
			Events:            o.Events,
			Identities:        identities,
			Clock:             o.Clock,
			AllowedEndpoints:  o.AllowedEndpoints,
		}).SetupWithManager(mgr); err != nil {
			return nil, fmt.Errorf("%s controller: %w", kind, err)
		}
	}
	return r, nil
}
