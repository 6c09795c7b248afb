-- Argo CD health of a face.liveness-operator.io LivenessSession.
--
-- It reads the kstatus conditions the operator writes (Ready, Reconciling, Stalled) and the
-- outcome of the end user's check. A finished session is Healthy whatever its outcome: Spoof,
-- Failed or Expired are the answers the resource exists to report, not faults of the resource.
-- Only base, table and package are used: Argo CD runs argocd-cm scripts without the string,
-- math and os libraries unless useOpenLibs is set.

local function result(status, message)
  return {status = status, message = message}
end

-- text turns an absent field into "" so that concatenation never fails on nil.
local function text(value)
  if value == nil then
    return ""
  end
  return value
end

local function condition(conditionType)
  if obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function isTrue(c)
  return c ~= nil and c.status == "True"
end

-- Argo CD itself answers this for a deleting object before it runs the script; the script says
-- the same so that its own tests give the answer Argo CD shows.
if obj.metadata.deletionTimestamp ~= nil then
  return result("Progressing", "Pending deletion")
end

if obj.status == nil then
  return result("Progressing", "waiting for the operator to report status")
end

-- Conditions describe the generation the operator last observed, so they say nothing about a
-- newer spec. Without observedGeneration (the operator writes it with Ready or Stalled) the
-- conditions decide, as in kstatus.
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= nil and observed < generation then
  return result("Progressing", "waiting for the operator to observe generation " .. generation)
end

local stalled = condition("Stalled")
if isTrue(stalled) then
  return result("Degraded", text(stalled.message))
end

local reconciling = condition("Reconciling")
if isTrue(reconciling) then
  return result("Progressing", text(reconciling.message))
end

local outcome = obj.status.outcome
local completed = condition("Completed")
if isTrue(completed) or (outcome ~= nil and outcome ~= "" and outcome ~= "Pending") then
  if outcome == nil or outcome == "" then
    outcome = completed.reason
  end
  local message = "outcome " .. text(outcome)
  if completed ~= nil and text(completed.message) ~= "" then
    message = message .. ": " .. completed.message
  end
  -- The export is a copy of the result: it does not make the session unhealthy, but a
  -- missing copy is worth seeing next to the outcome.
  local image = condition("SessionImageExported")
  if image ~= nil and image.status ~= "True" then
    message = message .. "; session image not exported: " .. text(image.message)
  end
  return result("Healthy", message)
end

local ready = condition("Ready")
if isTrue(ready) then
  return result("Healthy", text(ready.message))
end
if ready ~= nil then
  return result("Progressing", text(ready.message))
end
return result("Progressing", "waiting for the operator to report Ready")
