// Command manager runs the liveness-operator: the LivenessSession controller against one
// Kubernetes API server and the default Azure AI Face account.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/controllers"
	"github.com/liveness-operator/liveness-operator/controllers/session"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/quota"
)

// options are the manager's settings, from flags and the environment.
type options struct {
	faceEndpoint            string
	faceAPIKeyFile          string
	faceTimeout             time.Duration
	faceRequestsPerSecond   float64
	faceBurst               int
	operatorNamespace       string
	metricsAddr             string
	probeAddr               string
	leaderElect             bool
	leaderElectionNamespace string
	maxConcurrentReconciles int
	kubeQPS                 float64
	kubeBurst               int
}

func main() {
	var o options
	flag.StringVar(&o.faceEndpoint, "face-endpoint", os.Getenv("FACE_ENDPOINT"),
		"Azure AI Face endpoint, e.g. https://<resource>.cognitiveservices.azure.com (env FACE_ENDPOINT)")
	flag.StringVar(&o.faceAPIKeyFile, "face-apikey-file", "",
		"file holding the Face API key; the key may instead come from env FACE_APIKEY (never a flag: flags show in process lists)")
	flag.DurationVar(&o.faceTimeout, "face-timeout", 30*time.Second, "timeout of one Face request")
	flag.Float64Var(&o.faceRequestsPerSecond, "face-requests-per-second", quota.DefaultRequestsPerSecond,
		"request quota of the default Face account (S0: 10); FaceAccounts set their own")
	flag.IntVar(&o.faceBurst, "face-burst", quota.DefaultBurst, "burst of the default Face account's quota")
	flag.StringVar(&o.operatorNamespace, "operator-namespace", envOr("POD_NAMESPACE", "liveness-operator-system"),
		"namespace of the operator, where ClusterFaceAccounts' key Secrets live (env POD_NAMESPACE)")
	flag.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "metrics endpoint address; 0 disables it")
	flag.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "health and readiness probe address")
	flag.BoolVar(&o.leaderElect, "leader-elect", false, "use leader election, so only one replica reconciles")
	flag.StringVar(&o.leaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader election lease (default: in-cluster namespace)")
	flag.IntVar(&o.maxConcurrentReconciles, "max-concurrent-reconciles", 16, "LivenessSessions reconciled in parallel")
	// No client-side limit by default, as in controller-runtime: the API server's priority and
	// fairness protects it, and a client-side bucket only adds latency to a burst (measured: a
	// 200/s limit raised the burst's token Secret p99 by about 40 %, since a session costs three
	// writes).
	flag.Float64Var(&o.kubeQPS, "kube-api-qps", -1, "client-side limit of Kubernetes API requests per second (-1: none; the API server's priority and fairness applies)")
	flag.IntVar(&o.kubeBurst, "kube-api-burst", 0, "burst of Kubernetes API requests when --kube-api-qps is set")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))

	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "manager:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	log := ctrl.Log.WithName("setup")
	apiKey, err := readAPIKey(o.faceAPIKeyFile)
	if err != nil {
		return err
	}
	registry := accounts.NewRegistry(face.Options{Timeout: o.faceTimeout}, nil)
	// Each account's quota counters (waits, pauses, aborted calls) as Prometheus metrics.
	metrics.Registry.MustRegister(registry)
	switch {
	case o.faceEndpoint != "" && apiKey != "":
		limits := quota.Limits{RequestsPerSecond: o.faceRequestsPerSecond, Burst: o.faceBurst}
		if _, err := registry.Set(accounts.DefaultKey, accounts.Config{
			Endpoint: o.faceEndpoint, Credential: accounts.Credential{APIKey: apiKey}, Limits: limits,
		}); err != nil {
			return fmt.Errorf("default Face account: %w", err)
		}
	case o.faceEndpoint != "" || apiKey != "":
		return fmt.Errorf("the default Face account needs both FACE_ENDPOINT and FACE_APIKEY (or --face-apikey-file)")
	default:
		log.Info("no default Face account (FACE_ENDPOINT/FACE_APIKEY unset): LivenessSessions must name a FaceAccount or ClusterFaceAccount")
	}

	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(facev1.AddToScheme(scheme))

	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = float32(o.kubeQPS), o.kubeBurst
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: o.metricsAddr},
		HealthProbeBindAddress:  o.probeAddr,
		LeaderElection:          o.leaderElect,
		LeaderElectionID:        "liveness-operator.face.liveness-operator.io",
		LeaderElectionNamespace: o.leaderElectionNamespace,
		Cache:                   controllers.CacheOptions(),
	})
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	if _, err := controllers.Setup(mgr, controllers.SetupOptions{
		Registry:                registry,
		Metrics:                 session.NewMetrics(metrics.Registry),
		MaxConcurrentReconciles: o.maxConcurrentReconciles,
		OperatorNamespace:       o.operatorNamespace,
	}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	log.Info("starting manager", "defaultFaceEndpoint", o.faceEndpoint, "maxConcurrentReconciles", o.maxConcurrentReconciles)
	return mgr.Start(ctrl.SetupSignalHandler())
}

// envOr is the environment variable's value, or def when it is unset.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// readAPIKey reads the Face key from a file (a mounted Secret) or from FACE_APIKEY.
func readAPIKey(file string) (string, error) {
	if file == "" {
		return strings.TrimSpace(os.Getenv("FACE_APIKEY")), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read Face API key: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
