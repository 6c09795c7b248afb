// The page's flow: ask the app server for a session, hand its token to the Face SDK step
// (sdk.js, the one seam to swap for the real SDK), report completion, show the outcome the
// operator read from Face, and release the session. The token stays in memory: it is never
// shown or stored.
import { performLivenessCheck } from "./sdk.js";

const $ = (id) => document.getElementById(id);

// ApiError is an app server error answer ({"error": {"code", "message"}}) or a page error.
class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!resp.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(resp.status, e.code || `HTTP ${resp.status}`, e.message || resp.statusText);
  }
  return data;
}

// readAsBase64 is the file's bytes in standard base64, without the data: URL prefix.
function readAsBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
    reader.onerror = () => reject(new ApiError(0, "UnreadableFile", `Could not read ${file.name}.`));
    reader.readAsDataURL(file);
  });
}

// addStep appends a step to the progress list; it is "active" until done or failed.
function addStep(text) {
  const li = document.createElement("li");
  li.className = "active";
  li.textContent = text;
  $("steps").append(li);
  return {
    done(doneText) { li.className = "done"; if (doneText) li.textContent = doneText; },
    fail() { li.className = "failed"; },
  };
}

function formatTime(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour12: false });
}

const goodOutcomes = new Set(["Live", "Verified"]);

function showResult(session, result, verify) {
  const badge = $("outcome");
  badge.textContent = result.outcome;
  badge.className = `badge ${goodOutcomes.has(result.outcome) ? "good" : "bad"}`;
  $("liveness-decision").textContent = result.livenessDecision || "none";
  $("session-name").textContent = session.name;
  const latest = (result.attempts || []).reduce((a, b) => (!a || b.attemptId > a.attemptId ? b : a), null);
  let match = "none";
  if (latest && latest.matchConfidence) {
    match = `${latest.matchConfidence} (${latest.isIdentical ? "identical" : "not identical"})`;
  }
  $("match-confidence").textContent = match;
  $("result").classList.toggle("verify", verify);
  $("result").hidden = false;
}

function showError(err) {
  const code = err.code || err.livenessError || "Error";
  $("error-code").textContent = code;
  $("error-message").textContent = err.message || String(err);
  let origin = "";
  if (err.livenessError) origin = "Reported by the Face SDK step.";
  else if (err.status >= 500) origin = `The app server answered ${err.status}: the operator's reason.`;
  else if (err.status >= 400) origin = `The app server refused the request (${err.status}).`;
  $("error-origin").textContent = origin;
  $("error").hidden = false;
}

function reset() {
  $("steps").replaceChildren();
  $("sdk").replaceChildren();
  $("result").hidden = true;
  $("error").hidden = true;
  delete document.body.dataset.released;
}

async function runCheck(event) {
  event.preventDefault();
  reset();
  document.body.dataset.state = "running";
  $("start").disabled = true;
  let session = null;
  let step = null;
  try {
    const verify = $("verify").checked;
    let body;
    if (verify) {
      const file = $("reference").files[0];
      if (!file) throw new ApiError(0, "NoReferenceImage", "Choose a reference image for a verify session.");
      body = { verify: true, referenceImage: await readAsBase64(file) };
    }
    step = addStep(verify ? "Asking the app server for a liveness session with verification…" : "Asking the app server for a liveness session…");
    session = await api("POST", "/api/liveness-sessions", body);
    step.done(`Session ${session.name} created; its token expires at ${formatTime(session.expiresAt)}.`);

    step = addStep("Face SDK: performing the liveness check with the session token…");
    await performLivenessCheck($("sdk"), session.authToken, { decision: $("decision").value });
    step.done("Face SDK: liveness check performed.");

    const path = `/api/liveness-sessions/${encodeURIComponent(session.name)}`;
    step = addStep("Reporting completion to the app server…");
    await api("POST", `${path}/completed`);
    step.done("Completion reported: the operator reads the result from Face now.");

    step = addStep("Waiting for the outcome…");
    const result = await api("GET", `${path}?wait=10s`);
    if (result.outcome === "Pending") throw new ApiError(0, "Pending", "No final outcome within 10 seconds.");
    step.done(`Outcome from the operator: ${result.outcome}.`);
    showResult(session, result, verify);
    document.body.dataset.state = "done";
  } catch (err) {
    if (step) step.fail();
    showError(err);
    document.body.dataset.state = "failed";
  } finally {
    if (session) await release(session);
    document.body.dataset.released = "true";
    $("start").disabled = false;
  }
}

// release deletes the session: the operator deletes the cloud session, revoking the token.
async function release(session) {
  const step = addStep(`Releasing session ${session.name}…`);
  try {
    await api("DELETE", `/api/liveness-sessions/${encodeURIComponent(session.name)}`);
    step.done(`Session ${session.name} released: cloud session deleted, token revoked.`);
  } catch (err) {
    step.fail();
  }
}

function syncReferenceRow() {
  $("reference-row").classList.toggle("disabled", !$("verify").checked);
  $("reference").disabled = !$("verify").checked;
}

$("options").addEventListener("submit", runCheck);
$("verify").addEventListener("change", syncReferenceRow);
syncReferenceRow();
