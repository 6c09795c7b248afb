// THE FACE SDK SEAM. This module is the only place the page touches the Face client SDK.
//
// performLivenessCheck(container, authToken, options) runs the end user's liveness check with
// the session's auth token, inside `container`, and returns a promise shaped like the real
// Face web SDK's (azure-ai-vision-face-ui): it resolves with { livenessStatus } once the check
// is done and rejects with { livenessError, message } when it could not be done. The page never
// trusts that answer: it reports completion to the app server and shows the outcome the
// operator read from Face.
//
// The real SDK is gated and cannot run here, so this is a stand-in: it performs the attempt
// against the Face emulator with the session token, as the real SDK calls Face with it, through
// the app server's DEVELOPMENT-ONLY pass-through (example-app-server --face-emulator-endpoint;
// the emulator sends no CORS headers). `options.decision` (realface or spoofface) is what the
// emulated end user produces; the real SDK has no such option.
//
// Swapping in the real Face web SDK is a change to this function only:
//
//   import "./azure-ai-vision-face-ui/FaceLivenessDetector.js";
//
//   export async function performLivenessCheck(container, authToken) {
//     const detector = document.createElement("azure-ai-vision-face-ui");
//     container.replaceChildren(detector);
//     return detector.start(authToken); // resolves with resultData, rejects with errorData
//   }

const STAND_IN_PATH = "/dev/face-emulator/attempts";

export async function performLivenessCheck(container, authToken, options = {}) {
  const decision = options.decision || "realface";
  container.replaceChildren(standInView(decision));
  container.classList.add("active");
  let resp;
  try {
    resp = await fetch(STAND_IN_PATH, {
      method: "POST",
      headers: { "Authorization": `Bearer ${authToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({ livenessDecision: decision }),
    });
  } catch (err) {
    throw { livenessError: "NetworkError", message: `The stand-in SDK could not reach ${STAND_IN_PATH}.` };
  } finally {
    container.classList.remove("active");
  }
  const answer = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const e = answer.error || {};
    throw { livenessError: e.code || `HTTP ${resp.status}`, message: e.message || "The Face emulator refused the attempt." };
  }
  container.querySelector(".stand-in-caption").textContent = `Stand-in SDK: attempt recorded (${decision}).`;
  return { livenessStatus: answer.attempt?.result?.livenessDecision ?? "ResultQueryableFromService" };
}

// standInView is what the stand-in shows where the real SDK shows the camera.
function standInView(decision) {
  const view = document.createElement("div");
  view.className = "stand-in";
  const oval = document.createElement("div");
  oval.className = "stand-in-oval";
  const caption = document.createElement("p");
  caption.className = "stand-in-caption";
  caption.textContent = `Stand-in for the Face web SDK: playing a ${decision} attempt against the Face emulator…`;
  view.append(oval, caption);
  return view;
}
