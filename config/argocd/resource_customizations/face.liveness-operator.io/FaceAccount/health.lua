-- Argo CD health of a face.liveness-operator.io FaceAccount or ClusterFaceAccount (the two kinds
-- share this script: same status, same operator code).
--
-- The operator reports an account with the kstatus conditions a LivenessSession has: Ready,
-- and beside a False Ready either Stalled (only a human can fix it: the key, the Secret, the
-- identity, the spec) or Reconciling (the operator retries on its own: Face failed
-- transiently, or a key Secret created with the account has not arrived yet). Stalled is
-- Degraded, Reconciling Progressing, exactly as kstatus says Failed and InProgress.
-- Statuses written by operator versions that reported Ready alone are judged by Ready's
-- reason: the reasons only a human can fix are Degraded, the rest Progressing, so a reason
-- added later never turns an application red by surprise.
-- Only base, table and package are used: Argo CD runs argocd-cm scripts without the string,
-- math and os libraries unless useOpenLibs is set.

local needsHuman = {
  CredentialsRejected = true,
  KeySecretNotFound = true,
  CredentialsUnavailable = true,
  EndpointNotAllowed = true,
  -- The quota in the spec is invalid; the operator does not retry it.
  FaceRejected = true,
}

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

-- Argo CD itself answers this for a deleting object before it runs the script (an account in
-- use waits for its sessions); the script says the same so its own tests give Argo CD's answer.
if obj.metadata.deletionTimestamp ~= nil then
  return result("Progressing", "Pending deletion")
end

local waiting = "waiting for the operator to check the credentials"
if obj.status == nil or obj.status.conditions == nil then
  return result("Progressing", waiting)
end

-- Ready describes the generation the operator last checked, not a newer spec.
local generation = obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= nil and observed < generation then
  return result("Progressing", "waiting for the operator to observe generation " .. generation)
end

local ready, stalled, reconciling = nil, nil, nil
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then
    ready = c
  elseif c.type == "Stalled" then
    stalled = c
  elseif c.type == "Reconciling" then
    reconciling = c
  end
end
if ready == nil then
  return result("Progressing", waiting)
end
if ready.status ~= "True" and stalled ~= nil and stalled.status == "True" then
  return result("Degraded", text(stalled.message))
end
if ready.status ~= "True" and reconciling ~= nil and reconciling.status == "True" then
  return result("Progressing", text(reconciling.message))
end

if ready.status == "True" then
  local message = text(ready.message)
  -- A 429 pauses the whole account without changing Ready; say so next to it.
  if obj.status.pausedUntil ~= nil then
    message = message .. "; Face throttled the account until " .. obj.status.pausedUntil
  end
  return result("Healthy", message)
end
-- Written by an operator that reported Ready alone.
if ready.status == "False" and needsHuman[ready.reason] then
  return result("Degraded", text(ready.message))
end
return result("Progressing", text(ready.message))
