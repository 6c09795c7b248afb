package gitops

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	lua "github.com/yuin/gopher-lua"
)

// luaValue runs a script that returns one scalar and gives it back as a string.
func luaValue(t *testing.T, script string, openLibs bool) (string, error) {
	t.Helper()
	var out string
	err := runArgoLua(map[string]any{"metadata": map[string]any{"generation": int64(3)}}, script, openLibs, func(v lua.LValue) error {
		out = v.String()
		return nil
	})
	return out, err
}

// The runtime the scripts are written for, as read from Argo CD's code: these are the
// properties the scripts depend on, checked on the VM the other tests use.
func TestArgoCDLuaRuntime(t *testing.T) {
	t.Run("argocd-cm scripts have no string, math or global os library", func(t *testing.T) {
		for _, lib := range []string{"string", "math", "os", "io"} {
			got, err := luaValue(t, "return "+lib+" == nil", false)
			require.NoError(t, err)
			require.Equal(t, "true", got, "%s must be absent without open libraries", lib)
		}
	})
	t.Run("require(\"os\") gives time and date only", func(t *testing.T) {
		got, err := luaValue(t, `local os = require("os"); return os.execute == nil and os.getenv == nil and os.exit == nil and os.time ~= nil and os.date ~= nil`, false)
		require.NoError(t, err)
		require.Equal(t, "true", got)
	})
	t.Run("the global os fails where Argo CD runs actions", func(t *testing.T) {
		_, err := luaValue(t, `return os.date("!%Y-%m-%dT%H:%M:%SZ")`, false)
		require.Error(t, err)
	})
	t.Run("os.date writes RFC 3339 in UTC in both modes", func(t *testing.T) {
		for _, openLibs := range []bool{false, true} {
			got, err := luaValue(t, `local os = require("os"); return os.date("!%Y-%m-%dT%H:%M:%SZ")`, openLibs)
			require.NoError(t, err)
			at, err := time.Parse(time.RFC3339, got)
			require.NoError(t, err, "%q", got)
			require.WithinDuration(t, time.Now(), at, 2*time.Second)
		}
	})
	t.Run("an integer from the API server concatenates without a decimal point", func(t *testing.T) {
		got, err := luaValue(t, `return "generation " .. obj.metadata.generation`, false)
		require.NoError(t, err)
		require.Equal(t, "generation 3", got)
	})
	t.Run("a script that never ends is stopped", func(t *testing.T) {
		start := time.Now()
		_, err := luaValue(t, `while true do end`, false)
		require.Error(t, err)
		require.Less(t, time.Since(start), 5*time.Second)
	})
}
