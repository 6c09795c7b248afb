package emulator

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// The /emulator/* side door: inventory, stats, fault and quota control, attempts, and
// the v1.3 settings of every key (read, and changed behind the Face API's back).
// None of it needs a Face key (attempts need the session token instead), and no
// fault or quota applies to it, so a test can always observe and steer the emulator.

// SessionList is the body of GET /emulator/sessions.
type SessionList struct {
	// Sessions is every session in the inventory, oldest first.
	Sessions []SessionInfo `json:"sessions"`
}

func (s *Server) adminMux() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /emulator/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /emulator/sessions", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, SessionList{Sessions: s.Sessions()})
	})
	mux.HandleFunc("GET /emulator/sessions/{id}", func(w http.ResponseWriter, r *http.Request) {
		info, ok := s.Session(r.PathValue("id"))
		if !ok {
			writeError(w, newAPIError(http.StatusNotFound, codeSessionNotFound, "Session '%s' is not in the inventory.", r.PathValue("id")))
			return
		}
		writeJSON(w, http.StatusOK, info)
	})
	mux.HandleFunc("GET /emulator/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	mux.HandleFunc("GET /emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("PUT /emulator/faults", func(w http.ResponseWriter, r *http.Request) {
		var f Faults
		if e := decodeStrict(r, &f); e != nil {
			writeError(w, e)
			return
		}
		if err := s.SetFaults(f); err != nil {
			writeError(w, badArgument("%v", err))
			return
		}
		writeJSON(w, http.StatusOK, s.Faults())
	})
	mux.HandleFunc("GET /emulator/quota", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Quota())
	})
	mux.HandleFunc("PUT /emulator/quota", func(w http.ResponseWriter, r *http.Request) {
		var q Quota
		if e := decodeStrict(r, &q); e != nil {
			writeError(w, e)
			return
		}
		if err := s.SetQuota(q); err != nil {
			writeError(w, badArgument("%v", err))
			return
		}
		writeJSON(w, http.StatusOK, s.Quota())
	})
	mux.HandleFunc("POST /emulator/reset", func(w http.ResponseWriter, r *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /emulator/attempts", s.handleAttempt)
	mux.HandleFunc("GET /emulator/settings", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.AllSettings())
	})
	mux.HandleFunc("PUT /emulator/settings/{key}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("key")
		if _, known := s.AllSettings().Settings[id]; !known {
			writeError(w, newAPIError(http.StatusNotFound, codeNotFound, "No credential '%s'; key identities are key#N and bearer#N.", id))
			return
		}
		var st Settings
		if e := decodeStrict(r, &st); e != nil {
			writeError(w, e)
			return
		}
		s.SetAbuseMonitoring(id, st.LivenessAbuseMonitoring.Enabled)
		writeJSON(w, http.StatusOK, s.AllSettings().Settings[id])
	})
	mux.HandleFunc("/emulator/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, newAPIError(http.StatusNotFound, codeNotFound,
			"No emulator endpoint %s %s; see docs/emulator.md for the /emulator endpoints.", r.Method, r.URL.Path))
	})
	return mux
}

// decodeStrict decodes a JSON body into v, refusing unknown fields so that a typo in
// a fault or quota setting is reported instead of silently ignored.
func decodeStrict(r *http.Request, v any) *apiError {
	b, e := readBody(r, maxJSONBody)
	if e != nil {
		return e
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badArgument("Invalid JSON body: %v.", err)
	}
	return nil
}
