package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FaceAccountSpec is one Azure AI Face resource: where it is, how to authenticate, and its
// request quota.
type FaceAccountSpec struct {
	// Endpoint of the Face resource, e.g. https://<resource>.cognitiveservices.azure.com. It is
	// immutable: sessions created through the account must be read and deleted at the same
	// resource; point a new account at a new resource instead.
	// +kubebuilder:validation:Pattern=`^https?://[^\s/]+(/.*)?$`
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.endpoint is immutable: sessions were created at this Face resource; create a new account for another endpoint"
	Endpoint string `json:"endpoint"`

	// Credentials: an API key from a Secret, or Entra ID.
	Credentials FaceCredentials `json:"credentials"`

	// Quota is the Face resource's request quota, shared by every call the operator makes to it.
	// Default: the S0 tier's 10 requests per second.
	// +optional
	Quota *FaceQuota `json:"quota,omitempty"`
}

// FaceCredentials authenticate to Face: set exactly one of apiKey or entraID.
// +kubebuilder:validation:XValidation:rule="has(self.apiKey) != has(self.entraID)",message="set exactly one of spec.credentials.apiKey or spec.credentials.entraID"
type FaceCredentials struct {
	// APIKey is read from a Secret: the account's namespace for a FaceAccount, the operator's
	// namespace for a ClusterFaceAccount. A rotated key is picked up without a restart.
	// +optional
	APIKey *SecretKeySelector `json:"apiKey,omitempty"`
	// EntraID authenticates with Microsoft Entra ID tokens for the scope
	// https://cognitiveservices.azure.com/.default.
	// +optional
	EntraID *EntraIDCredentials `json:"entraID,omitempty"`
}

// SecretKeySelector names a key of a Secret in the namespace the account's kind implies.
type SecretKeySelector struct {
	// Name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// Key within it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
}

// EntraIDMode selects how a ClusterFaceAccount obtains the operator's own Entra ID tokens.
// +kubebuilder:validation:Enum=WorkloadIdentity;DefaultChain
type EntraIDMode string

const (
	// EntraIDWorkloadIdentity uses Azure workload identity: a federated ServiceAccount token. For
	// a ClusterFaceAccount it is the operator's own (AZURE_FEDERATED_TOKEN_FILE); a FaceAccount
	// always uses this mode, with a token of spec.credentials.entraID.serviceAccountName.
	EntraIDWorkloadIdentity EntraIDMode = "WorkloadIdentity"
	// EntraIDDefaultChain uses azidentity's default credential chain (environment, workload
	// identity, managed identity, ...) of the operator's process; ClusterFaceAccounts only.
	EntraIDDefaultChain EntraIDMode = "DefaultChain"
)

// EntraIDCredentials configure Entra ID authentication.
//
// A FaceAccount authenticates as a ServiceAccount of its own namespace: the operator requests a
// short-lived token for it (audience api://AzureADTokenExchange) and exchanges it for an Entra ID
// token of clientID in tenantID, so the Entra application's federated credential must trust the
// subject system:serviceaccount:<namespace>:<serviceAccountName>. A FaceAccount never uses the
// operator's own identity: anyone who may create FaceAccounts in a namespace could otherwise
// borrow it. A ClusterFaceAccount, which only cluster administrators create, uses the operator's
// own identity (mode, clientID and tenantID, defaulting to the AZURE_* environment).
type EntraIDCredentials struct {
	// Mode is WorkloadIdentity (default) or DefaultChain, how a ClusterFaceAccount obtains the
	// operator's own tokens. A FaceAccount must leave it at WorkloadIdentity: DefaultChain would
	// be the operator's identity.
	// +kubebuilder:default=WorkloadIdentity
	// +optional
	Mode EntraIDMode `json:"mode,omitempty"`
	// ClientID of the Entra application or managed identity whose tokens are requested. Required
	// for a FaceAccount (the application whose federated credential trusts the ServiceAccount);
	// for a ClusterFaceAccount it defaults to the operator's AZURE_CLIENT_ID.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	ClientID string `json:"clientID,omitempty"`
	// TenantID of the Entra tenant of clientID. Required for a FaceAccount; for a
	// ClusterFaceAccount it defaults to the operator's AZURE_TENANT_ID.
	// +kubebuilder:validation:MaxLength=64
	// +optional
	TenantID string `json:"tenantID,omitempty"`
	// ServiceAccountName is a ServiceAccount in the FaceAccount's own namespace whose token is
	// exchanged for Entra ID tokens of clientID. Required for a FaceAccount; it is only a name,
	// so it can never mean a ServiceAccount of another namespace. A ClusterFaceAccount must not
	// set it: it has no namespace and uses the operator's own identity.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
}

// FaceQuota is a Face resource's request quota: requests per second with a burst (S0: 10/s),
// or requests per minute (F0: 20/min).
// +kubebuilder:validation:XValidation:rule="has(self.requestsPerSecond) != has(self.requestsPerMinute)",message="set exactly one of quota.requestsPerSecond (S0: 10) or quota.requestsPerMinute (F0: 20)"
type FaceQuota struct {
	// RequestsPerSecond the resource allows (S0: 10).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	// +optional
	RequestsPerSecond *int32 `json:"requestsPerSecond,omitempty"`
	// RequestsPerMinute the resource allows (F0: 20).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=600000
	// +optional
	RequestsPerMinute *int32 `json:"requestsPerMinute,omitempty"`
	// Burst is how many requests may go at once after a quiet spell (default: one second's
	// worth for requestsPerSecond, 1 for requestsPerMinute).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=10000
	// +optional
	Burst *int32 `json:"burst,omitempty"`
}

// FaceAccountStatus is the account's observed state.
type FaceAccountStatus struct {
	// ObservedGeneration is the generation last checked.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Sessions is how many LivenessSessions currently use the account.
	// +optional
	Sessions int32 `json:"sessions,omitempty"`
	// PausedUntil is set while Face throttles the account (429): no call goes to it before then.
	// +optional
	PausedUntil *metav1.Time `json:"pausedUntil,omitempty"`
	// Conditions: Ready is True once a credential check against Face succeeded.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// FaceAccount is an Azure AI Face resource that LivenessSessions in its namespace can use.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:categories=face
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.spec.endpoint`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Sessions",type=integer,JSONPath=`.status.sessions`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type FaceAccount struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// The Entra ID rules keep a FaceAccount from using the operator's own identity; they are here,
	// not on the EntraIDCredentials that ClusterFaceAccounts share. They sit on spec rather than
	// on the object so that a FaceAccount stored before they existed can still have its finalizer
	// and status written (CRD validation ratcheting skips an unchanged spec); the operator refuses
	// such an account at run time.

	// Spec is the Face resource.
	// +kubebuilder:validation:XValidation:rule="!has(self.credentials.entraID) || (has(self.credentials.entraID.serviceAccountName) && has(self.credentials.entraID.clientID) && self.credentials.entraID.clientID != '' && has(self.credentials.entraID.tenantID) && self.credentials.entraID.tenantID != '')",message="a FaceAccount with spec.credentials.entraID must set serviceAccountName (a ServiceAccount of this namespace), clientID and tenantID (the Entra application whose federated credential trusts system:serviceaccount:<namespace>:<serviceAccountName>); only a ClusterFaceAccount uses the operator's own identity"
	// +kubebuilder:validation:XValidation:rule="!has(self.credentials.entraID) || !has(self.credentials.entraID.mode) || self.credentials.entraID.mode == 'WorkloadIdentity'",message="a FaceAccount's spec.credentials.entraID.mode must be WorkloadIdentity (its ServiceAccount's token): DefaultChain is the operator's own identity, which only a ClusterFaceAccount may use"
	Spec FaceAccountSpec `json:"spec"`
	// Status is its observed state.
	// +optional
	Status FaceAccountStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// FaceAccountList is a list of FaceAccounts.
type FaceAccountList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the accounts.
	Items []FaceAccount `json:"items"`
}

// ClusterFaceAccountSpec is a Face resource shared by several namespaces.
type ClusterFaceAccountSpec struct {
	FaceAccountSpec `json:",inline"`
	// NamespaceSelector says which namespaces may use the account; LivenessSessions elsewhere are
	// refused. An empty selector admits every namespace.
	NamespaceSelector metav1.LabelSelector `json:"namespaceSelector"`
	// MaxNamespaceSharePercent caps any one namespace at this percentage of the account's
	// request rate and burst, so that one tenant's batch cannot take a shared account's whole
	// quota even while nobody else is using it. Unset: no cap; namespaces share the account
	// fairly (each with work gets its turn) and a namespace alone may use all of it.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MaxNamespaceSharePercent *int32 `json:"maxNamespaceSharePercent,omitempty"`
}

// NamespaceShare is MaxNamespaceSharePercent as a fraction of the account (0: no cap).
func (s *ClusterFaceAccountSpec) NamespaceShare() float64 {
	if s.MaxNamespaceSharePercent == nil {
		return 0
	}
	return float64(*s.MaxNamespaceSharePercent) / 100
}

// ClusterFaceAccount is an Azure AI Face resource for the namespaces its selector admits. Its key
// Secret lives in the operator's namespace.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,categories=face
// +kubebuilder:printcolumn:name="Endpoint",type=string,JSONPath=`.spec.endpoint`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Sessions",type=integer,JSONPath=`.status.sessions`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ClusterFaceAccount struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the Face resource and who may use it.
	// +kubebuilder:validation:XValidation:rule="!has(self.credentials.entraID) || !has(self.credentials.entraID.serviceAccountName)",message="a ClusterFaceAccount authenticates with the operator's own Entra identity: remove spec.credentials.entraID.serviceAccountName (a ServiceAccount needs a namespace: use a FaceAccount there instead)"
	Spec ClusterFaceAccountSpec `json:"spec"`
	// Status is its observed state.
	// +optional
	Status FaceAccountStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// ClusterFaceAccountList is a list of ClusterFaceAccounts.
type ClusterFaceAccountList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the accounts.
	Items []ClusterFaceAccount `json:"items"`
}

// AccountKind is the kind of a Face account reference.
// +kubebuilder:validation:Enum=FaceAccount;ClusterFaceAccount
type AccountKind string

const (
	// AccountKindFaceAccount is a FaceAccount in the session's namespace.
	AccountKindFaceAccount AccountKind = "FaceAccount"
	// AccountKindClusterFaceAccount is a ClusterFaceAccount.
	AccountKindClusterFaceAccount AccountKind = "ClusterFaceAccount"
)

// AccountReference names the Face account a LivenessSession uses.
type AccountReference struct {
	// Kind is FaceAccount (in the session's namespace, the default) or ClusterFaceAccount.
	// +kubebuilder:default=FaceAccount
	// +optional
	Kind AccountKind `json:"kind,omitempty"`
	// Name of the account.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
}

// AccountFinalizer keeps an account while LivenessSessions still need it to delete their
// cloud sessions.
const AccountFinalizer = "face.liveness-operator.io/account-in-use"

// Account condition reasons.
const (
	// ReasonCredentialsValid: a credential check against Face succeeded.
	ReasonCredentialsValid = "CredentialsValid"
	// ReasonKeySecretNotFound: the API key's Secret or key does not exist.
	ReasonKeySecretNotFound = "KeySecretNotFound"
	// ReasonCredentialsUnavailable: an Entra ID credential could not be set up.
	ReasonCredentialsUnavailable = "CredentialsUnavailable"
	// ReasonAccountNotFound: the session's account does not exist.
	ReasonAccountNotFound = "AccountNotFound"
	// ReasonAccountNotReady: the session's account cannot reach Face yet.
	ReasonAccountNotReady = "AccountNotReady"
	// ReasonNamespaceNotAllowed: a ClusterFaceAccount's selector does not admit the namespace.
	ReasonNamespaceNotAllowed = "NamespaceNotAllowed"
	// ReasonAccountThrottled: the account is paused by Face's Retry-After; calls wait.
	ReasonAccountThrottled = "AccountThrottled"
	// ReasonWaitingForQuota: the session's Face call has waited more than a few seconds in the
	// account's fair queue for a request token; it goes when its namespace's turn comes.
	ReasonWaitingForQuota = "WaitingForQuota"
	// ReasonFinalizerReleased: a session's cloud session had certainly expired and its account
	// could not delete it; the finalizer was released without a delete.
	ReasonFinalizerReleased = "FinalizerReleased"
)

func init() {
	SchemeBuilder.Register(&FaceAccount{}, &FaceAccountList{}, &ClusterFaceAccount{}, &ClusterFaceAccountList{})
}

// AccountSpec returns the Face resource settings.
func (a *FaceAccount) AccountSpec() *FaceAccountSpec { return &a.Spec }

// AccountStatus returns the status to update.
func (a *FaceAccount) AccountStatus() *FaceAccountStatus { return &a.Status }

// AccountSpec returns the Face resource settings.
func (a *ClusterFaceAccount) AccountSpec() *FaceAccountSpec { return &a.Spec.FaceAccountSpec }

// AccountStatus returns the status to update.
func (a *ClusterFaceAccount) AccountStatus() *FaceAccountStatus { return &a.Status }
