package gitops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	luajson "layeh.com/gopher-json"
)

// This file runs Lua the way Argo CD runs resource customizations (util/lua/lua.go of
// argoproj/argo-cd, read at 37ee0097): the same interpreter (gopher-lua v1.1.2), the same
// libraries, the same globals, the same one-second limit and the same conversion of what the
// script returns. It is written from reading that code, not copied: what matters is that a
// script that passes here meets the same runtime in Argo CD.

// argoScriptTimeout is the time Argo CD gives one script run.
const argoScriptTimeout = time.Second

// healthStatus is Argo CD's health.HealthStatus as health_test.yaml spells it.
type healthStatus struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
}

// argoHealthCodes are the statuses Argo CD accepts from a health script; any other answer
// becomes Unknown.
var argoHealthCodes = map[string]bool{
	"Unknown": true, "Progressing": true, "Suspended": true, "Healthy": true, "Degraded": true, "Missing": true,
}

// runArgoLua runs script with obj as the global obj and hands the value the script returned to
// use. openLibs false is how Argo CD runs argocd-cm health scripts by default (no
// resource.customizations.useOpenLibs) and every action and discovery script; true is how it
// runs its built-in scripts.
func runArgoLua(obj map[string]any, script string, openLibs bool, use func(lua.LValue) error) error {
	l := lua.NewState(lua.Options{SkipOpenLibs: !openLibs})
	defer l.Close()
	// Argo CD opens these four whatever openLibs says, in this order.
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.OsLibName, openArgoOs},
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			return fmt.Errorf("open %s: %w", lib.name, err)
		}
	}
	l.PreloadModule(lua.OsLibName, loadSafeOs)

	ctx, cancel := context.WithTimeout(context.Background(), argoScriptTimeout)
	defer cancel()
	l.SetContext(ctx)
	// No action of ours takes parameters; Argo CD still sets the global.
	l.SetGlobal("actionParams", l.CreateTable(0, 0))
	l.SetGlobal("obj", toLua(l, obj))

	if err := l.DoString(script); err != nil {
		return err
	}
	return use(l.Get(-1))
}

// toLua converts an object the way Argo CD's decodeValue does: JSON numbers of every Go integer
// kind (an object read from the API server has int64) become Lua numbers, json.Number becomes a
// string, and anything else unknown becomes nil.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case bool:
		return lua.LBool(v)
	case float64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	case json.Number:
		return lua.LString(v)
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for k, item := range v {
			t.RawSetH(lua.LString(k), toLua(l, item))
		}
		return t
	}
	return lua.LNil
}

// argoHealth is Argo CD's ExecuteHealthLua: a table is converted through JSON into a health
// status (an empty table, which gopher-json encodes as [], is an empty status), an unknown
// status code becomes Unknown, nil is an empty status, anything else is an error.
func argoHealth(obj map[string]any, script string, openLibs bool) (healthStatus, error) {
	var hs healthStatus
	err := runArgoLua(obj, script, openLibs, func(v lua.LValue) error {
		switch v.Type() {
		case lua.LTNil:
			return nil
		case lua.LTTable:
		default:
			return fmt.Errorf("expect table output from Lua script, not %s", v.Type())
		}
		data, err := luajson.Encode(v)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(data, &hs); err != nil {
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) && typeErr.Value == "array" {
				hs = healthStatus{}
				return nil
			}
			return err
		}
		if !argoHealthCodes[hs.Status] {
			hs = healthStatus{Status: "Unknown", Message: "Lua returned an invalid health status"}
		}
		return nil
	})
	return hs, err
}

// argoResourceHealth is the health Argo CD shows for a live object with an argocd-cm health
// script: gitops-engine's GetResourceHealth answers "Pending deletion" for a deleting object
// before any script runs, then the script runs without the open libraries.
func argoResourceHealth(u *unstructured.Unstructured, script string) (healthStatus, error) {
	if u.GetDeletionTimestamp() != nil {
		return healthStatus{Status: "Progressing", Message: "Pending deletion"}, nil
	}
	return argoHealth(u.Object, script, false)
}

// resourceAction is Argo CD's ResourceAction as a discovery script describes it and
// action_test.yaml lists it.
type resourceAction struct {
	Name        string           `json:"name"`
	Params      []map[string]any `json:"params,omitempty"`
	Disabled    bool             `json:"disabled"`
	IconClass   string           `json:"iconClass"`
	DisplayName string           `json:"displayName"`
}

// argoDiscovery is Argo CD's ExecuteResourceActionDiscovery for one discovery script: a table
// of action name to settings; an action whose settings are empty is enabled.
func argoDiscovery(obj map[string]any, script string) ([]resourceAction, error) {
	var actions []resourceAction
	err := runArgoLua(obj, script, false, func(v lua.LValue) error {
		if v.Type() != lua.LTTable {
			return fmt.Errorf("expect table output from Lua script, not %s", v.Type())
		}
		data, err := luajson.Encode(v)
		if err != nil {
			return err
		}
		if string(data) == "[]" {
			return nil
		}
		var byName map[string]json.RawMessage
		if err := json.Unmarshal(data, &byName); err != nil {
			return fmt.Errorf("action table: %w", err)
		}
		for name, raw := range byName {
			a := resourceAction{Name: name}
			if string(raw) != "[]" {
				if err := json.Unmarshal(raw, &a); err != nil {
					return fmt.Errorf("action %s: %w", name, err)
				}
				a.Name = name
			}
			actions = append(actions, a)
		}
		return nil
	})
	return actions, err
}

// impactedResource is one object an action returns, with what Argo CD does with it.
type impactedResource struct {
	Object    map[string]any `json:"resource"`
	Operation string         `json:"operation"`
}

// argoAction is Argo CD's ExecuteResourceAction: a returned object (the old style, which ours
// uses) is a patch of the source object; a returned list is the new style. A patched object is
// cleaned of the empty arrays that stand for empty objects of the source.
func argoAction(obj map[string]any, script string) ([]impactedResource, error) {
	var out []impactedResource
	err := runArgoLua(obj, script, false, func(v lua.LValue) error {
		if v.Type() != lua.LTTable {
			return fmt.Errorf("expect table output from Lua script, not %s", v.Type())
		}
		data, err := luajson.Encode(v)
		if err != nil {
			return err
		}
		if len(data) < 2 {
			return errors.New("Lua output was not a valid json object or array")
		}
		if data[0] == '[' {
			var list []struct {
				Object    map[string]any `json:"unstructuredObj"`
				Operation string         `json:"operation"`
			}
			if err := json.Unmarshal(data, &list); err != nil {
				return err
			}
			for _, r := range list {
				out = append(out, impactedResource{Object: r.Object, Operation: r.Operation})
			}
		} else {
			var patched map[string]any
			if err := json.Unmarshal(data, &patched); err != nil {
				return err
			}
			out = append(out, impactedResource{Object: patched, Operation: "patch"})
		}
		for i := range out {
			if out[i].Operation == "patch" {
				out[i].Object = restoreEmptyObjects(out[i].Object, obj)
			}
		}
		return nil
	})
	return out, err
}

// restoreEmptyObjects undoes the one thing a round trip through Lua loses: Lua has a single
// table type, so an empty object comes back as an empty array. Where the source had an object
// and the result has an empty array, the object is restored; nested objects and arrays are
// walked. Without this a patch would turn every "{}" of the live object (managedFields is full
// of them) into "[]".
func restoreEmptyObjects(result, source map[string]any) map[string]any {
	for key, before := range source {
		after, ok := result[key]
		if !ok {
			continue
		}
		result[key] = restoreValue(after, before)
	}
	return result
}

// restoreValue is restoreEmptyObjects for one value.
func restoreValue(after, before any) any {
	switch b := before.(type) {
	case map[string]any:
		switch a := after.(type) {
		case map[string]any:
			return restoreEmptyObjects(a, b)
		case []any:
			if len(a) == 0 {
				return map[string]any{}
			}
		}
	case []any:
		if a, ok := after.([]any); ok {
			for i := range a {
				if i < len(b) {
					a[i] = restoreValue(a[i], b[i])
				}
			}
			return a
		}
	}
	return after
}
