// Command manager runs the liveness-operator: the LivenessSession controller against one
// Kubernetes API server and the default Azure AI Face account.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/controllers"
	"github.com/liveness-operator/liveness-operator/controllers/account"
	"github.com/liveness-operator/liveness-operator/controllers/session"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/endpoints"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/quota"
	"github.com/liveness-operator/liveness-operator/internal/sharding"
	"github.com/liveness-operator/liveness-operator/internal/tokenmac"
	"github.com/liveness-operator/liveness-operator/internal/version"

	// Azure's CA roots inside the binary: the release image has no /etc/ssl.
	_ "github.com/liveness-operator/liveness-operator/internal/caroots"
)

// options are the manager's settings, from flags and the environment.
type options struct {
	faceEndpoint          string
	faceAPIKeyFile        string
	faceTimeout           time.Duration
	faceRequestsPerSecond float64
	faceBurst             int
	// faceNamespaceSharePercent caps one namespace's share of the default account (0: none).
	faceNamespaceSharePercent int
	operatorNamespace         string
	metricsAddr               string
	probeAddr                 string
	leaderElect               bool
	leaderElectionNamespace   string
	maxConcurrentReconciles   int
	kubeQPS                   float64
	kubeBurst                 int
	metricsSecure             bool
	allowedFaceEndpoints      string
	watchNamespaces           string
	defaultTTLAfterFinished   int
	shutdownGracePeriod       time.Duration
	leaseDuration             time.Duration
	renewDeadline             time.Duration
	leaderElectionID          string
	watchLabelSelector        string
	pprofAddr                 string
	faceCallSlots             int
}

// defaultLeaderElectionID is the lease of an unsharded manager; a shard's lease adds a hash
// of its selector (sharding.LeaderElectionID).
const defaultLeaderElectionID = "liveness-operator.face.liveness-operator.io"

func main() {
	version.ExitIfRequested("manager")
	var o options
	flag.StringVar(&o.faceEndpoint, "face-endpoint", os.Getenv("FACE_ENDPOINT"),
		"Azure AI Face endpoint, e.g. https://<resource>.cognitiveservices.azure.com (env FACE_ENDPOINT)")
	flag.StringVar(&o.faceAPIKeyFile, "face-apikey-file", "",
		"file holding the Face API key; the key may instead come from env FACE_APIKEY (never a flag: flags show in process lists)")
	flag.DurationVar(&o.faceTimeout, "face-timeout", 30*time.Second, "timeout of one Face request")
	flag.Float64Var(&o.faceRequestsPerSecond, "face-requests-per-second", quota.DefaultRequestsPerSecond,
		"request quota of the default Face account (S0: 10); FaceAccounts set their own")
	flag.IntVar(&o.faceBurst, "face-burst", quota.DefaultBurst, "burst of the default Face account's quota")
	flag.IntVar(&o.faceNamespaceSharePercent, "face-max-namespace-share-percent", 0,
		"cap any one namespace at this percentage (1-100) of the default Face account's quota; 0: no cap, namespaces share it fairly")
	flag.StringVar(&o.operatorNamespace, "operator-namespace", envOr("POD_NAMESPACE", "liveness-operator-system"),
		"namespace of the operator, where ClusterFaceAccounts' key Secrets live (env POD_NAMESPACE)")
	flag.StringVar(&o.metricsAddr, "metrics-bind-address", ":8443", "metrics endpoint address; 0 disables it")
	flag.BoolVar(&o.metricsSecure, "metrics-secure", true,
		"serve metrics over HTTPS, only to clients the API server authenticates and authorizes for GET /metrics (ClusterRole metrics-reader); false serves plain HTTP to anyone (then use --metrics-bind-address :8080 behind a NetworkPolicy)")
	flag.StringVar(&o.allowedFaceEndpoints, "allowed-face-endpoints", strings.Join(endpoints.DefaultPatterns, ","),
		"comma-separated host patterns namespaced FaceAccounts may send credentials to (e.g. *.cognitiveservices.azure.com,127.0.0.1:8080); the default account and ClusterFaceAccounts are trusted")
	flag.StringVar(&o.watchNamespaces, "watch-namespaces", "",
		"comma-separated namespaces to watch (LivenessSessions, FaceAccounts, Secrets, ConfigMaps); empty: all. With it the manager needs namespaced Roles only (config/rbac-namespaced)")
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
	flag.IntVar(&o.defaultTTLAfterFinished, "default-ttl-seconds-after-finished", 86400,
		"remove a finished LivenessSession (with its cloud session and Secrets) this many seconds after its outcome became final, unless its spec.ttlSecondsAfterFinished says otherwise; 0 keeps finished sessions")
	flag.DurationVar(&o.shutdownGracePeriod, "shutdown-grace-period", 20*time.Second,
		"on SIGTERM, how long creates already claimed may take to finish (keep it below the pod's terminationGracePeriodSeconds)")
	// A standby takes over at most a lease duration (plus a retry period) after the leader
	// died: 10 s + 2 s, within the 20 s the HA bar allows (controller-runtime's 15 s default
	// measured 17.6 s).
	flag.DurationVar(&o.leaseDuration, "leader-elect-lease-duration", 10*time.Second, "how long a standby waits before taking over a lease that was not renewed")
	flag.DurationVar(&o.renewDeadline, "leader-elect-renew-deadline", 7*time.Second, "how long the leader keeps trying to renew before giving up leadership")
	zapOpts := zap.Options{}
	flag.StringVar(&o.leaderElectionID, "leader-election-id", "",
		"name of the leader-election lease (default: "+defaultLeaderElectionID+", plus a hash of --watch-label-selector when set, so each shard has its own)")
	flag.StringVar(&o.watchLabelSelector, "watch-label-selector", "",
		"shard: reconcile only the LivenessSessions, FaceAccounts and ClusterFaceAccounts matching this label selector, e.g. '"+sharding.Key+" in (shard1)' (empty: all)")
	flag.IntVar(&o.faceCallSlots, "face-max-concurrent-calls", quota.DefaultMaxConcurrentCalls,
		"Face calls each account may have in flight; an account does at most this many / Face latency calls per second (raise it with its quota; a hanging endpoint holds at most this many workers)")
	flag.StringVar(&o.pprofAddr, "pprof-bind-address", "",
		"serve Go's /debug/pprof at this address for profiling (empty or 0: off; bind it to loopback: profiles show the process's memory)")
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	ctrl.Log.WithName("setup").Info("starting liveness-operator", version.Get().KeysAndValues()...)

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
	allowed, err := endpoints.Parse(o.allowedFaceEndpoints)
	if err != nil {
		return fmt.Errorf("--allowed-face-endpoints: %w", err)
	}
	shard, err := sharding.Parse(o.watchLabelSelector)
	if err != nil {
		return err
	}
	leaderElectionID := o.leaderElectionID
	if leaderElectionID == "" {
		leaderElectionID = sharding.LeaderElectionID(defaultLeaderElectionID, shard)
	}
	watchNamespaces := splitList(o.watchNamespaces)
	if len(watchNamespaces) > 0 && !slices.Contains(watchNamespaces, o.operatorNamespace) {
		// ClusterFaceAccounts' key Secrets live there, and their rotation is watched.
		watchNamespaces = append(watchNamespaces, o.operatorNamespace)
	}
	if o.faceNamespaceSharePercent < 0 || o.faceNamespaceSharePercent > 100 {
		return fmt.Errorf("--face-max-namespace-share-percent=%d: want 0 (no cap) to 100", o.faceNamespaceSharePercent)
	}
	if o.faceCallSlots < 1 {
		return fmt.Errorf("--face-max-concurrent-calls=%d: want at least 1", o.faceCallSlots)
	}
	// Every account's Face requests (per try: account, operation, status class, latency).
	registry := accounts.NewRegistry(face.Options{Timeout: o.faceTimeout, Metrics: face.NewCallMetrics(metrics.Registry)}, nil)
	registry.SetCallSlots(o.faceCallSlots)
	if o.faceCallSlots >= o.maxConcurrentReconciles {
		log.Info("--face-max-concurrent-calls is not below --max-concurrent-reconciles: one account whose endpoint hangs can hold every worker",
			"faceMaxConcurrentCalls", o.faceCallSlots, "maxConcurrentReconciles", o.maxConcurrentReconciles)
	}
	// Each account's quota counters (waits, pauses, aborted calls) as Prometheus metrics.
	metrics.Registry.MustRegister(registry)
	switch {
	case o.faceEndpoint != "" && apiKey != "":
		limits := quota.Limits{RequestsPerSecond: o.faceRequestsPerSecond, Burst: o.faceBurst,
			FlowShare: float64(o.faceNamespaceSharePercent) / 100}
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
		Metrics:                 metricsOptions(o),
		HealthProbeBindAddress:  o.probeAddr,
		LeaderElection:          o.leaderElect,
		GracefulShutdownTimeout: &o.shutdownGracePeriod,
		LeaseDuration:           &o.leaseDuration,
		RenewDeadline:           &o.renewDeadline,
		LeaderElectionID:        leaderElectionID,
		PprofBindAddress:        o.pprofAddr,
		LeaderElectionNamespace: o.leaderElectionNamespace,
		Cache:                   controllers.CacheOptions(watchNamespaces, shard),
		Client:                  controllers.ClientOptions(),
	})
	if err != nil {
		return fmt.Errorf("manager: %w", err)
	}
	// The signing key is read (or created on first start) with a direct client: the manager's
	// client reads nothing before the manager starts.
	direct, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("kubernetes client: %w", err)
	}
	signer, err := tokenmac.LoadOrCreate(context.Background(), direct, o.operatorNamespace)
	if err != nil {
		return err
	}
	if _, err := controllers.Setup(mgr, controllers.SetupOptions{
		TokenSigner:             signer,
		Registry:                registry,
		Metrics:                 session.NewMetrics(metrics.Registry),
		MaxConcurrentReconciles: o.maxConcurrentReconciles,
		OperatorNamespace:       o.operatorNamespace,
		WatchNamespaces:         watchNamespaces,
		AllowedEndpoints:        allowed,
		DefaultTTLAfterFinished: time.Duration(o.defaultTTLAfterFinished) * time.Second,
		Shard:                   shard,
	}); err != nil {
		return err
	}
	// Sessions by phase and outcome, accounts by readiness: listed from the cache at scrape time.
	metrics.Registry.MustRegister(&session.StateCollector{Reader: mgr.GetClient()}, &account.StateCollector{Reader: mgr.GetClient()})
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	log.Info("starting manager", "defaultFaceEndpoint", o.faceEndpoint, "maxConcurrentReconciles", o.maxConcurrentReconciles,
		"allowedFaceEndpoints", allowed.String(), "watchNamespaces", watchNamespaces, "metricsSecure", o.metricsSecure,
		"watchLabelSelector", o.watchLabelSelector, "leaderElectionID", leaderElectionID)
	return mgr.Start(ctrl.SetupSignalHandler())
}

// metricsOptions serve /metrics over HTTPS with controller-runtime's authentication and
// authorization filter (a TokenReview and a SubjectAccessReview per scrape: anonymous scrapes
// get 401, scrapers without GET /metrics 403), or, only when asked for, plain HTTP.
func metricsOptions(o options) metricsserver.Options {
	if !o.metricsSecure {
		return metricsserver.Options{BindAddress: o.metricsAddr}
	}
	return metricsserver.Options{BindAddress: o.metricsAddr, SecureServing: true,
		FilterProvider: filters.WithAuthenticationAndAuthorization}
}

// splitList splits a comma-separated flag value, dropping empty entries.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
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
