// Package face is a small client for the liveness surface of Azure AI Face v1.2 (GA), and,
// opted into per client with Options.APIVersion, of v1.3-preview.1 (several attempts per
// session, user correlation, the expected client IP, abuse monitoring and the settings
// operations; see the v1.3 section of docs/face-client-contract.md). A v1.2 client refuses
// v1.3 fields with ErrUnsupportedByAPIVersion instead of dropping them.
//
// It covers exactly the eight operations the operator needs: create/get/delete of liveness
// sessions and of liveness-with-verify sessions, download of a stored session image, and
// detection on a stored session image. The wire shapes follow the v1.2 OpenAPI document
// (see docs/face-client-contract.md and the shared LIVENESS-API.md reference).
//
// Design points, each of which exists for an operational reason:
//
//   - Requests go through an azcore pipeline so that retries, Retry-After handling, logging
//     redaction and Entra ID token caching behave like every other Azure SDK client.
//   - GET and DELETE are retried with backoff; POSTs (both creates and detect) never are,
//     because a replayed create that had already succeeded leaks a second billable session
//     whose auth token is live until its TTL expires.
//   - A create that failed after the request may have reached the service is reported with
//     ErrOutcomeUnknown in the error chain so the caller can reconcile instead of blindly
//     creating again.
//   - Enums are kept as the raw strings the service sent and compared case-insensitively,
//     because the published examples disagree with the spec on spelling ("realFace" vs
//     "realface", referenceType "image").
//   - Neither the API key nor the session authToken is ever logged: bodies are never logged
//     and the key header is not on azcore's log allow-list.
package face
