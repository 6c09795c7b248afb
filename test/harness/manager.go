package harness

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/controllers"
	"github.com/liveness-operator/liveness-operator/internal/face"
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
	// Face is the client for every session (required).
	Face face.Client
	// Clock defaults to the real clock.
	Clock clock.PassiveClock
	// Events defaults to the manager's recorder.
	Events events.EventRecorder
}

// Manager is a running manager with the LivenessSession reconciler, watching one namespace.
type Manager struct {
	// Reconciler is the reconciler it runs.
	Reconciler *controllers.LivenessSessionReconciler
	// Client reads from the manager's cache.
	Client client.Client
}

// StartManager runs the real reconciler in a manager that watches only namespace, so tests in
// other namespaces (with their own emulators) never meet it. It stops when the test ends.
func StartManager(t testing.TB, cfg *rest.Config, namespace string, opts ManagerOptions) *Manager {
	t.Helper()
	cacheOpts := controllers.CacheOptions()
	cacheOpts.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 Scheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cacheOpts,
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatalf("manager: %v", err)
	}
	rec := opts.Events
	if rec == nil {
		rec = mgr.GetEventRecorder("liveness-operator")
	}
	r := &controllers.LivenessSessionReconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Face:      controllers.StaticFaceClient{Client: opts.Face},
		Events:    rec,
		Clock:     opts.Clock,
		// Only this namespace, like the cache, so parallel tests never meet.
		WatchNamespaces: []string{namespace},
	}
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatalf("setup reconciler: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager stopped with: %v", err)
		}
	})
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		t.Fatal("manager cache did not sync")
	}
	return &Manager{Reconciler: r, Client: mgr.GetClient()}
}
