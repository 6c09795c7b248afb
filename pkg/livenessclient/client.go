package livenessclient

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// Client runs liveness sessions in one namespace. It is safe for concurrent use.
type Client struct {
	kube      client.WithWatch
	namespace string
}

// New connects to the API server described by cfg and works in namespace.
func New(cfg *rest.Config, namespace string) (*Client, error) {
	if namespace == "" {
		return nil, errors.New("livenessclient: a namespace is required")
	}
	kube, err := client.NewWithWatch(cfg, client.Options{Scheme: newScheme()})
	if err != nil {
		return nil, fmt.Errorf("livenessclient: %w", err)
	}
	return &Client{kube: kube, namespace: namespace}, nil
}

// NewForClient uses an existing controller-runtime client, whose scheme must know the
// built-in kinds and the face.liveness-operator.io/v1alpha1 kinds (see AddToScheme).
func NewForClient(kube client.WithWatch, namespace string) *Client {
	return &Client{kube: kube, namespace: namespace}
}

// NewFromKubeconfig loads the connection the way kubectl does: the kubeconfig file at path
// or, when path is empty, $KUBECONFIG, ~/.kube/config or the in-cluster service account.
// An empty namespace means the kubeconfig context's namespace (in a pod: the pod's own
// namespace), or "default".
func NewFromKubeconfig(path, namespace string) (*Client, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("livenessclient: load kubeconfig: %w", err)
	}
	if namespace == "" {
		if namespace, _, err = loader.Namespace(); err != nil {
			return nil, fmt.Errorf("livenessclient: namespace from kubeconfig: %w", err)
		}
	}
	return New(cfg, namespace)
}

// Namespace is where the client creates and reads sessions.
func (c *Client) Namespace() string { return c.namespace }

// AddToScheme registers the kinds the client reads and writes (Secrets and LivenessSessions),
// for callers that build their own controller-runtime client for NewForClient.
func AddToScheme(s *runtime.Scheme) error {
	if err := clientgoscheme.AddToScheme(s); err != nil {
		return err
	}
	return facev1.AddToScheme(s)
}

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := AddToScheme(s); err != nil {
		// Registering static types cannot fail unless the packages themselves are broken.
		panic(err)
	}
	return s
}
