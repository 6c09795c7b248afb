// Package accounts keeps one Face client and one request-quota limiter per Face account, shared
// by every worker of the operator. The account controllers configure it from FaceAccount and
// ClusterFaceAccount resources; the LivenessSession reconciler looks clients up in it.
package accounts

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"k8s.io/utils/clock"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/quota"
)

// Key identifies an account. The zero Key is the manager's default account (FACE_ENDPOINT and
// FACE_APIKEY); a ClusterFaceAccount has no namespace.
type Key struct {
	// Kind is FaceAccount or ClusterFaceAccount; empty for the default account.
	Kind facev1.AccountKind
	// Namespace of a FaceAccount.
	Namespace string
	// Name of the account.
	Name string
}

// DefaultKey is the manager's default account.
var DefaultKey = Key{}

// String is "default", "FaceAccount/ns/name" or "ClusterFaceAccount/name": the form used in
// indexes, logs and messages.
func (k Key) String() string {
	switch {
	case k == DefaultKey:
		return "default"
	case k.Kind == facev1.AccountKindClusterFaceAccount:
		return string(k.Kind) + "/" + k.Name
	default:
		return string(k.Kind) + "/" + k.Namespace + "/" + k.Name
	}
}

// KeyFor is the account a session in namespace ns refers to with ref (nil: the default).
func KeyFor(ns string, ref *facev1.AccountReference) Key {
	if ref == nil {
		return DefaultKey
	}
	if ref.Kind == facev1.AccountKindClusterFaceAccount {
		return Key{Kind: ref.Kind, Name: ref.Name}
	}
	return Key{Kind: facev1.AccountKindFaceAccount, Namespace: ns, Name: ref.Name}
}

// Credential authenticates an account: an API key or an Entra ID token credential.
type Credential struct {
	// APIKey is sent as Ocp-Apim-Subscription-Key.
	APIKey string
	// Token obtains Entra ID tokens; used when APIKey is empty.
	Token azcore.TokenCredential
}

// Config is everything an account's client is built from.
type Config struct {
	// Endpoint of the Face resource.
	Endpoint string
	// Credential to authenticate with.
	Credential Credential
	// Limits is the account's request quota.
	Limits quota.Limits
}

// ErrInvalidQuota says an account's quota cannot be applied.
var ErrInvalidQuota = errors.New("invalid quota")

// Registry holds the accounts' clients and limiters.
type Registry struct {
	base  face.Options
	clock clock.WithDelayedExecution
	// callSlots is every account's Face calls in flight unless its limits say otherwise
	// (SetCallSlots; zero: quota.DefaultMaxConcurrentCalls).
	callSlots int

	mu       sync.RWMutex
	accounts map[Key]*account
}

type account struct {
	client      face.Client
	limiter     *quota.Limiter
	fingerprint string
}

// NewRegistry returns an empty registry. base carries the client settings every account shares
// (timeouts, retries, transport); Endpoint and credentials come from each account's Config.
func NewRegistry(base face.Options, clk clock.WithDelayedExecution) *Registry {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Registry{base: base, clock: clk, accounts: map[Key]*account{}}
}

// SetCallSlots sets how many Face calls each account may have in flight (the manager's
// --face-max-concurrent-calls; zero: quota.DefaultMaxConcurrentCalls). It applies to accounts
// set afterwards, so call it before the first Set. The number is the administrator's, never a
// tenant's: a hanging endpoint holds at most that many workers.
func (r *Registry) SetCallSlots(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.callSlots = n
}

// Set configures an account, creating it or updating it in place. The limiter survives updates
// (a rotated key does not reset the account's quota bookkeeping); the client is rebuilt only when
// the endpoint or the credential changed. changed reports that, so the caller re-checks the
// credentials against Face.
//
// It is the one place an account's limits are validated: invalid limits are an ErrInvalidQuota
// and leave the account as it was.
func (r *Registry) Set(key Key, cfg Config) (changed bool, err error) {
	if err := cfg.Limits.Validate(); err != nil {
		return false, fmt.Errorf("account %s: %w: %w", key, ErrInvalidQuota, err)
	}
	fp := fingerprint(cfg)
	r.mu.Lock()
	defer r.mu.Unlock()
	if cfg.Limits.MaxConcurrentCalls == 0 {
		cfg.Limits.MaxConcurrentCalls = r.callSlots
	}
	a, ok := r.accounts[key]
	if ok && a.fingerprint == fp {
		return false, a.limiter.SetLimits(cfg.Limits)
	}
	opts := r.base
	opts.Endpoint, opts.APIKey, opts.Credential = cfg.Endpoint, cfg.Credential.APIKey, nil
	// The limiter must see every 429 to pause the whole account; see face.Options.
	opts.NoThrottleRetries = true
	opts.AccountLabel = key.String() // bounded by the number of accounts; see face.CallMetrics
	if cfg.Credential.APIKey == "" {
		opts.Credential = cfg.Credential.Token
	}
	c, err := face.NewClient(opts)
	if err != nil {
		return false, fmt.Errorf("account %s: %w", key, err)
	}
	if !ok {
		a = &account{limiter: quota.NewLimiter(cfg.Limits, r.clock)}
		r.accounts[key] = a
	} else if err := a.limiter.SetLimits(cfg.Limits); err != nil {
		return false, err
	}
	a.client, a.fingerprint = a.limiter.Wrap(c), fp
	return true, nil
}

// Get returns the account's quota-limited client and its limiter.
func (r *Registry) Get(key Key) (face.Client, *quota.Limiter, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.accounts[key]
	if !ok {
		return nil, nil, false
	}
	return a.client, a.limiter, true
}

// Remove forgets an account: its sessions wait until it is configured again.
func (r *Registry) Remove(key Key) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.accounts, key)
	r.base.Metrics.Forget(key.String())
}

// fingerprint identifies a Config's connection without keeping the key itself.
func fingerprint(cfg Config) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%p", cfg.Endpoint, cfg.Credential.APIKey, cfg.Credential.Token)
	return hex.EncodeToString(h.Sum(nil))
}

// ForgetTicket drops the quota ticket of id (a session's) from every account's fair queue: the
// session is gone and will make no more calls. Cheap: one map lookup per account.
func (r *Registry) ForgetTicket(id string) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, a := range r.accounts {
		a.limiter.Forget(id)
	}
}
