-- Argo CD actions of a face.liveness-operator.io LivenessSession.
--
-- sync-now asks the operator to read the result from Face at once instead of at the next poll
-- of its schedule. The operator reads results only while the session is Ready and its outcome
-- is not final, so the action is offered (enabled) only then; at any other time it would do
-- nothing.

local actions = {}

local ready = false
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Ready" and c.status == "True" then
      ready = true
    end
  end
end

local final = false
if obj.status ~= nil and obj.status.outcome ~= nil and obj.status.outcome ~= "" and obj.status.outcome ~= "Pending" then
  final = true
end

actions["sync-now"] = {
  ["disabled"] = (not ready) or final or obj.metadata.deletionTimestamp ~= nil,
  ["iconClass"] = "fa fa-fw fa-sync",
  ["displayName"] = "Sync result now",
}
return actions
