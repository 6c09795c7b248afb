-- Argo CD action sync-now of a face.liveness-operator.io LivenessSession: sets the annotation
-- face.liveness-operator.io/sync-requested-at to the current time (RFC 3339, UTC). Any new value
-- makes the operator read the session's result from Face once, at once.
--
-- Argo CD runs actions without Lua's standard libraries; its safe os module (time and date
-- only) must be required, there is no global os. os.date has second resolution, so two runs
-- within the same second write the same value and the second run changes nothing.

local os = require("os")

if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["face.liveness-operator.io/sync-requested-at"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
return obj
