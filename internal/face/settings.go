package face

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// SettingsClient holds the resource-wide settings operations of Face v1.3-preview.1. It is
// separate from Client so that fakes and wrappers of Client need not implement operations
// that v1.2 accounts never call. *HTTPClient implements it; on a v1.2 client every method
// returns ErrUnsupportedByAPIVersion (with ErrInvalidRequest) without sending anything.
type SettingsClient interface {
	// GetSettings reads the resource's liveness settings (GET /settings).
	GetSettings(ctx context.Context) (*Settings, error)
	// PatchSettings changes the settings that update sets and returns them all (PATCH /settings).
	PatchSettings(ctx context.Context, update SettingsUpdate) (*Settings, error)
	// GetClientAssetsAccessToken returns the token for the client SDK's model assets, cached
	// until shortly before it expires (GET /settings/getClientAssetsAccessToken).
	GetClientAssetsAccessToken(ctx context.Context) (*ClientAssetsAccessToken, error)
}

const (
	settingsPath            = "/settings"
	clientAssetsAccessToken = "/settings/getClientAssetsAccessToken"
)

// LivenessAbuseMonitoringSetting is the abuse monitoring switch of a resource.
type LivenessAbuseMonitoringSetting struct {
	// Enabled is whether the service flags faces that recur under different user correlation
	// ids. It applies to sessions created afterwards (each session snapshots it).
	Enabled bool `json:"enabled"`
}

// Settings is the resource-wide liveness configuration (the spec's Settings).
type Settings struct {
	// LivenessAbuseMonitoring is the abuse monitoring switch.
	LivenessAbuseMonitoring LivenessAbuseMonitoringSetting `json:"livenessAbuseMonitoring"`
}

// LivenessAbuseMonitoringSettingUpdate changes the abuse monitoring switch; nil Enabled leaves
// it as it is.
type LivenessAbuseMonitoringSettingUpdate struct {
	// Enabled is the new value, or nil for no change.
	Enabled *bool `json:"enabled,omitempty"`
}

// SettingsUpdate is the body of PATCH /settings (the spec's SettingsUpdate). Nothing in it is
// required; an empty update changes nothing and returns the current settings.
type SettingsUpdate struct {
	// LivenessAbuseMonitoring changes the abuse monitoring switch when set.
	LivenessAbuseMonitoring *LivenessAbuseMonitoringSettingUpdate `json:"livenessAbuseMonitoring,omitempty"`
}

// ClientAssetsAccessToken is the token the client SDK (and its package feed) uses to fetch
// the liveness model assets. It is a secret, though not a session credential: String redacts it.
type ClientAssetsAccessToken struct {
	// Expiry is when the token stops working.
	Expiry time.Time `json:"expiry"`
	// AccessToken is the token itself.
	AccessToken string `json:"accessToken"`
	// Base64AccessToken is the token in base64 (what the package feed takes as a password).
	Base64AccessToken string `json:"base64AccessToken"`
}

// String redacts both token forms so that logging the value never discloses it.
func (t ClientAssetsAccessToken) String() string {
	return fmt.Sprintf("ClientAssetsAccessToken{Expiry:%s AccessToken:%s Base64AccessToken:%s}",
		t.Expiry.UTC().Format(time.RFC3339), redacted(t.AccessToken), redacted(t.Base64AccessToken))
}

// GoString redacts the tokens for %#v as well.
func (t ClientAssetsAccessToken) GoString() string { return t.String() }

// assetsTokenMargin is how long before its expiry a cached token is replaced, so that a caller
// never hands out a token that expires while it is being used.
const assetsTokenMargin = time.Minute

var errNoAbuseMonitoringSetting = errors.New("response has neither livenessAbuseMonitoring.enabled nor enabled")

// decodeSettings reads a Settings answer leniently: the schema's
// {"livenessAbuseMonitoring":{"enabled":b}}, or the flat {"enabled":b} of the published PATCH
// example (LIVENESS-API-v1.3.md §6.2).
func decodeSettings(body []byte) (*Settings, error) {
	var w struct {
		LivenessAbuseMonitoring *struct {
			Enabled *bool `json:"enabled"`
		} `json:"livenessAbuseMonitoring"`
		Enabled *bool `json:"enabled"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, err
	}
	switch {
	case w.LivenessAbuseMonitoring != nil && w.LivenessAbuseMonitoring.Enabled != nil:
		return &Settings{LivenessAbuseMonitoring: LivenessAbuseMonitoringSetting{Enabled: *w.LivenessAbuseMonitoring.Enabled}}, nil
	case w.Enabled != nil:
		return &Settings{LivenessAbuseMonitoring: LivenessAbuseMonitoringSetting{Enabled: *w.Enabled}}, nil
	}
	return nil, errNoAbuseMonitoringSetting
}

func decodeClientAssetsAccessToken(body []byte) (*ClientAssetsAccessToken, error) {
	var t ClientAssetsAccessToken
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, err
	}
	if t.AccessToken == "" || t.Expiry.IsZero() {
		return nil, errors.New("response has no accessToken or expiry")
	}
	return &t, nil
}

// getJSON sends a bodiless request (or a JSON body) to a fixed path and decodes the answer.
func getJSON[T any](h *HTTPClient, ctx context.Context, op, method, path string, body []byte, decode func([]byte) (T, error)) (T, error) {
	var zero T
	c := call{op: op, method: method, path: path, accept: acceptJSON}
	if body != nil {
		c.body, c.contentType = body, "application/json"
	}
	resp, err := h.do(ctx, c)
	if err != nil {
		return zero, err
	}
	b, err := payload(op, resp, MaxJSONResponse)
	if err != nil {
		return zero, err
	}
	v, err := decode(b)
	if err != nil {
		return zero, fmt.Errorf("face %s: decoding response: %w", op, err)
	}
	return v, nil
}

// GetSettings reads the resource's liveness settings (GET /settings, v1.3-preview.1).
// Retried on transient failures.
func (h *HTTPClient) GetSettings(ctx context.Context) (*Settings, error) {
	if !h.isV13() {
		return nil, h.unsupported(opGetSettings, "the settings operations", APIVersionV13Preview1)
	}
	return getJSON(h, ctx, opGetSettings, http.MethodGet, settingsPath, nil, decodeSettings)
}

// PatchSettings applies update (PATCH /settings, application/json in the schema's shape) and
// returns the settings the service now has. Setting a value is idempotent, so the call is
// retried on transient failures like a GET.
func (h *HTTPClient) PatchSettings(ctx context.Context, update SettingsUpdate) (*Settings, error) {
	if !h.isV13() {
		return nil, h.unsupported(opPatchSettings, "the settings operations", APIVersionV13Preview1)
	}
	body, err := json.Marshal(update)
	if err != nil {
		return nil, fmt.Errorf("face %s: %w: %v", opPatchSettings, ErrInvalidRequest, err)
	}
	return getJSON(h, ctx, opPatchSettings, http.MethodPatch, settingsPath, body, decodeSettings)
}

// GetClientAssetsAccessToken returns the client-assets token
// (GET /settings/getClientAssetsAccessToken, v1.3-preview.1). The token is cached until a
// minute before its expiry, so calling this per request costs one Face call per token
// lifetime. The returned value is a copy.
func (h *HTTPClient) GetClientAssetsAccessToken(ctx context.Context) (*ClientAssetsAccessToken, error) {
	if !h.isV13() {
		return nil, h.unsupported(opGetClientAssetsAccessToken, "the settings operations", APIVersionV13Preview1)
	}
	h.assetsMu.Lock()
	defer h.assetsMu.Unlock()
	if t := h.assetsToken; t != nil && h.now().Add(assetsTokenMargin).Before(t.Expiry) {
		cp := *t
		return &cp, nil
	}
	t, err := getJSON(h, ctx, opGetClientAssetsAccessToken, http.MethodGet, clientAssetsAccessToken, nil, decodeClientAssetsAccessToken)
	if err != nil {
		return nil, err
	}
	h.assetsToken = t
	cp := *t
	return &cp, nil
}
