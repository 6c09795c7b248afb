package emulator

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sync"
	"time"
)

// The v1.3-preview.1 settings operations: GET and PATCH /settings, and
// GET /settings/getClientAssetsAccessToken. The setting is kept per key identity,
// like the quota: each credential stands for its own Face resource, so that tests
// can run several accounts against one emulator.

// clientAssetsTokenLifetime is how long a dummy client-assets token is valid. The
// service does not document it; an hour makes a client's cache observable in tests.
const clientAssetsTokenLifetime = time.Hour

// settingsStore holds each key's livenessAbuseMonitoring setting; a key that never
// changed it has the default.
type settingsStore struct {
	def bool
	mu  sync.Mutex
	m   map[string]bool
}

func newSettingsStore(def bool) *settingsStore {
	return &settingsStore{def: def, m: map[string]bool{}}
}

func (st *settingsStore) enabled(keyID string) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if v, ok := st.m[keyID]; ok {
		return v
	}
	return st.def
}

func (st *settingsStore) set(keyID string, on bool) {
	st.mu.Lock()
	st.m[keyID] = on
	st.mu.Unlock()
}

func (st *settingsStore) reset() {
	st.mu.Lock()
	st.m = map[string]bool{}
	st.mu.Unlock()
}

// Settings is the v1.3 resource settings of one key, as GET /settings shows them.
type Settings struct {
	// LivenessAbuseMonitoring is the abuse monitoring switch.
	LivenessAbuseMonitoring AbuseMonitoringSetting `json:"livenessAbuseMonitoring"`
}

// AbuseMonitoringSetting is the livenessAbuseMonitoring member of Settings.
type AbuseMonitoringSetting struct {
	// Enabled is whether sessions created from now on are monitored.
	Enabled bool `json:"enabled"`
}

// SettingsList is the body of GET /emulator/settings.
type SettingsList struct {
	// Settings maps each configured key identity ("key#0", "bearer#0") to its settings.
	Settings map[string]Settings `json:"settings"`
}

// AbuseMonitoring reports a key identity's livenessAbuseMonitoring setting.
func (s *Server) AbuseMonitoring(keyID string) bool { return s.settings.enabled(keyID) }

// SetAbuseMonitoring changes a key identity's setting behind the Face API's back (what
// PATCH /settings with that key would do), so a test can make the setting drift.
func (s *Server) SetAbuseMonitoring(keyID string, enabled bool) { s.settings.set(keyID, enabled) }

// AllSettings returns the settings of every configured credential.
func (s *Server) AllSettings() SettingsList {
	out := SettingsList{Settings: map[string]Settings{}}
	for _, id := range append(append([]string(nil), s.creds.keyIDs...), s.creds.tokenIDs...) {
		out.Settings[id] = Settings{LivenessAbuseMonitoring: AbuseMonitoringSetting{Enabled: s.settings.enabled(id)}}
	}
	return out
}

func (s *Server) writeSettings(w *recorder, keyID string) {
	writeJSON(w, http.StatusOK, wireSettings{LivenessAbuseMonitoring: wireAbuseSetting{Enabled: s.settings.enabled(keyID)}})
}

// getSettings is GET /settings.
func (s *Server) getSettings(w *recorder, r *http.Request, c call) {
	s.writeSettings(w, c.keyID)
}

// patchSettings is PATCH /settings. It accepts the schema's
// {"livenessAbuseMonitoring":{"enabled":b}} and the published example's flat
// {"enabled":b}; a body without "enabled" changes nothing. The answer always has the
// schema's shape (LIVENESS-API-v1.3.md §6.2).
func (s *Server) patchSettings(w *recorder, r *http.Request, c call) {
	m, e := decodeJSONObject(r)
	if e != nil {
		writeError(w, e)
		return
	}
	var enabled *bool
	if raw, ok := m["livenessAbuseMonitoring"]; ok && string(raw) != "null" {
		var inner map[string]json.RawMessage
		if err := json.Unmarshal(raw, &inner); err != nil || inner == nil {
			writeError(w, badArgument("Field 'livenessAbuseMonitoring' must be an object such as {\"enabled\": true} (got %s).", jsonKind(raw)))
			return
		}
		if enabled, e = jsonBool(inner, "enabled"); e != nil {
			e.message = "In 'livenessAbuseMonitoring': " + e.message
			writeError(w, e)
			return
		}
	}
	if enabled == nil {
		if enabled, e = jsonBool(m, "enabled"); e != nil {
			writeError(w, e)
			return
		}
	}
	if enabled != nil {
		s.settings.set(c.keyID, *enabled)
	}
	s.writeSettings(w, c.keyID)
}

// getClientAssetsAccessToken answers dummy values: a random token, its base64, and an
// expiry an hour ahead (the real token gates the client SDK's package feed, which the
// emulator has no use for).
func (s *Server) getClientAssetsAccessToken(w *recorder, r *http.Request, c call) {
	var b [24]byte
	_, _ = rand.Read(b[:])
	token := "face-emulator-assets." + base64.RawURLEncoding.EncodeToString(b[:])
	writeJSON(w, http.StatusOK, wireClientAssetsToken{
		Expiry:            c.now.Add(clientAssetsTokenLifetime).UTC().Format("2006-01-02T15:04:05.000Z"),
		AccessToken:       token,
		Base64AccessToken: base64.StdEncoding.EncodeToString([]byte(token)),
	})
}
