package emulator_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
)

const wantUnauthorized = `{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}`

func TestUnauthorized(t *testing.T) {
	e := newEnv(t, emulator.Config{APIKeys: []string{"key-a", "key-b"}, BearerTokens: []string{"entra-token"}})
	body := []byte(`{"livenessOperationMode":"Passive","deviceCorrelationId":"d"}`)
	for name, headers := range map[string][]string{
		"missing key":                {"Ocp-Apim-Subscription-Key", ""},
		"wrong key":                  {"Ocp-Apim-Subscription-Key", "key-c"},
		"key prefix":                 {"Ocp-Apim-Subscription-Key", "key-"},
		"wrong bearer":               {"Ocp-Apim-Subscription-Key", "", "Authorization", "Bearer nope"},
		"session token is no bearer": {"Ocp-Apim-Subscription-Key", "", "Authorization", "Basic entra-token"},
		"wrong key beats good token": {"Ocp-Apim-Subscription-Key", "bad", "Authorization", "Bearer entra-token"},
	} {
		t.Run(name, func(t *testing.T) {
			r := e.do(http.MethodPost, livenessPath, body, "application/json", headers...)
			require.Equal(t, http.StatusUnauthorized, r.status)
			require.JSONEq(t, wantUnauthorized, string(r.body))
			require.Equal(t, "401", r.header.Get("x-ms-error-code"))
			r = e.do(http.MethodGet, livenessPath+"/x", nil, "", headers...)
			require.Equal(t, http.StatusUnauthorized, r.status)
		})
	}
	require.Empty(t, e.srv.Sessions())

	ok := e.do(http.MethodPost, livenessPath, body, "application/json", "Ocp-Apim-Subscription-Key", "key-b")
	require.Equal(t, http.StatusOK, ok.status)
	ok = e.do(http.MethodPost, livenessPath, body, "application/json", "Ocp-Apim-Subscription-Key", "", "Authorization", "Bearer entra-token")
	require.Equal(t, http.StatusOK, ok.status)
	ids := []string{}
	for _, s := range e.srv.Sessions() {
		ids = append(ids, s.APIKey)
	}
	require.ElementsMatch(t, []string{"key#1", "bearer#0"}, ids)
}

func TestSessionTokenCannotCallFaceAPI(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	created := e.createLiveness(nil)
	r := e.do(http.MethodGet, livenessPath+"/"+created["sessionId"].(string), nil, "",
		"Ocp-Apim-Subscription-Key", "", "Authorization", "Bearer "+created["authToken"].(string))
	require.Equal(t, http.StatusUnauthorized, r.status)
}

func TestNoCredentialsConfiguredRefusesAll(t *testing.T) {
	srvEnv := newEnv(t, emulator.Config{APIKeys: []string{""}})
	r := srvEnv.do(http.MethodGet, livenessPath+"/x", nil, "")
	require.Equal(t, http.StatusUnauthorized, r.status)
}

func TestEmulatorEndpointsNeedNoKey(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	for _, p := range []string{"/emulator/sessions", "/emulator/stats", "/emulator/faults", "/emulator/quota"} {
		r := e.do(http.MethodGet, p, nil, "", "Ocp-Apim-Subscription-Key", "")
		require.Equal(t, http.StatusOK, r.status, p)
	}
	r := e.do(http.MethodGet, "/emulator/nothing", nil, "")
	require.Equal(t, http.StatusNotFound, r.status)
	require.Equal(t, "404", r.errorCode(t))
}
