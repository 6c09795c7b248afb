package harness

import (
	"context"
	goruntime "runtime"
	"slices"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/controllers"
	"github.com/liveness-operator/liveness-operator/controllers/account"
	"github.com/liveness-operator/liveness-operator/controllers/session"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/endpoints"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/quota"
	"github.com/liveness-operator/liveness-operator/internal/tokenmac"
)

// Scheme knows the built-in kinds and the operator's.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = facev1.AddToScheme(s)
	return s
}

// FaceClient is the real Face client for an emulator, with short timeouts and retry delays
// suited to tests.
func FaceClient(t testing.TB, endpoint, key string) *face.HTTPClient {
	t.Helper()
	c, err := face.NewClient(face.Options{
		Endpoint:      endpoint,
		APIKey:        key,
		Timeout:       5 * time.Second,
		MaxRetries:    2,
		RetryDelay:    50 * time.Millisecond,
		MaxRetryDelay: 2 * time.Second,
	})
	if err != nil {
		t.Fatalf("face client: %v", err)
	}
	return c
}

// ManagerOptions tune StartManager.
type ManagerOptions struct {
	// Endpoint and APIKey configure the default account; empty Endpoint: no default account.
	Endpoint, APIKey string
	// Limits is the default account's quota; zero: generous (1000/s), so tests measure the
	// operator rather than the S0 quota.
	Limits quota.Limits
	// Credentials builds Entra ID credentials for accounts (default: azidentity).
	Credentials account.CredentialFactory
	// EntraExchange configures FaceAccounts' ServiceAccount token exchange, e.g.
	// FakeEntra.ClientAssertionOptions (default: Azure's public cloud).
	EntraExchange azidentity.ClientAssertionCredentialOptions
	// OperatorNamespace holds ClusterFaceAccounts' key Secrets (default: the watched namespace).
	OperatorNamespace string
	// ExtraNamespaces are watched too (for example a second team's namespace).
	ExtraNamespaces []string
	// ClusterFaceAccounts runs the ClusterFaceAccount reconciler. ClusterFaceAccounts are
	// cluster-scoped, so every manager of a parallel test run would reconcile every one of them
	// (each with its own operator namespace); only the test that uses them turns it on.
	ClusterFaceAccounts bool
	// AllowedEndpoints for namespaced FaceAccounts; default: loopback, any port (the tests'
	// emulators).
	AllowedEndpoints *endpoints.AllowList
	// Clock defaults to the real clock.
	Clock clock.PassiveClock
	// Events defaults to the manager's recorder.
	Events events.EventRecorder
	// Shard is the manager's --watch-label-selector (nil: every resource).
	Shard labels.Selector
	// Workers is the LivenessSession controller's --max-concurrent-reconciles (0: its default).
	Workers int
}

// Manager is a running manager with the operator's reconcilers, watching the test's namespaces.
type Manager struct {
	// Reconciler is the LivenessSession reconciler it runs.
	Reconciler *session.Reconciler
	// Registry holds its Face accounts.
	Registry *accounts.Registry
	// Client reads from the manager's cache.
	Client client.Client
}

// testFaceOptions are the Face client settings of test managers: short timeouts and retry
// delays.
func testFaceOptions() face.Options {
	return face.Options{Timeout: 5 * time.Second, MaxRetries: 2, RetryDelay: 50 * time.Millisecond, MaxRetryDelay: 2 * time.Second}
}

// StartManager runs the real reconciler in a manager that watches only namespace, so tests in
// other namespaces (with their own emulators) never meet it. It stops when the test ends.
func StartManager(t testing.TB, cfg *rest.Config, namespace string, opts ManagerOptions) *Manager {
	t.Helper()
	namespaces := append([]string{namespace}, opts.ExtraNamespaces...)
	if opts.OperatorNamespace == "" {
		opts.OperatorNamespace = namespace
	} else if !slices.Contains(namespaces, opts.OperatorNamespace) {
		namespaces = append(namespaces, opts.OperatorNamespace)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 Scheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  controllers.CacheOptions(namespaces, opts.Shard),
		Client:                 controllers.ClientOptions(),
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatalf("manager: %v", err)
	}
	registry := accounts.NewRegistry(testFaceOptions(), nil)
	if opts.Endpoint != "" {
		limits := opts.Limits
		if limits == (quota.Limits{}) {
			limits = quota.Limits{RequestsPerSecond: 1000, Burst: 1000}
		}
		if _, err := registry.Set(accounts.DefaultKey, accounts.Config{
			Endpoint: opts.Endpoint, Credential: accounts.Credential{APIKey: opts.APIKey}, Limits: limits,
		}); err != nil {
			t.Fatalf("default account: %v", err)
		}
	}
	allowed := opts.AllowedEndpoints
	if allowed == nil {
		allowed = endpoints.MustParse("127.0.0.1")
	}
	// Only the test's namespaces, like the cache, so parallel tests never meet.
	r, err := controllers.Setup(mgr, controllers.SetupOptions{
		Registry:                registry,
		Events:                  opts.Events,
		Clock:                   opts.Clock,
		WatchNamespaces:         namespaces,
		OperatorNamespace:       opts.OperatorNamespace,
		Credentials:             opts.Credentials,
		EntraExchange:           opts.EntraExchange,
		SkipClusterFaceAccounts: !opts.ClusterFaceAccounts,
		TokenSigner:             TestTokenSigner(t),
		AllowedEndpoints:        allowed,
		Shard:                   opts.Shard,
		MaxConcurrentReconciles: opts.Workers,
	})
	if err != nil {
		t.Fatalf("setup controllers: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			// Show what did not stop: the reconciles still running hold the answer.
			buf := make([]byte, 1<<20)
			buf = buf[:goruntime.Stack(buf, true)]
			t.Errorf("manager stopped with: %v\ngoroutines:\n%s", err, buf)
		}
	})
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("manager cache did not sync")
	}
	return &Manager{Reconciler: r, Registry: registry, Client: mgr.GetClient()}
}

// testTokenKey is the token signing key of every test manager and directly driven reconciler,
// so that a "restarted process" verifies what an earlier one signed.
var testTokenKey = []byte("liveness-operator-test-token-key")

// TestTokenSigner is the token signer tests share (a fixed key: tests are not secret).
func TestTokenSigner(t testing.TB) *tokenmac.Signer {
	t.Helper()
	s, err := tokenmac.New(testTokenKey)
	if err != nil {
		t.Fatalf("token signer: %v", err)
	}
	return s
}
