// Package emulator is a local, in-memory emulator of the Azure AI Face v1.2 liveness
// REST API (the eight operations of /face/v1.2 described in
// shared/face-api/LIVENESS-API.md) and of v1.3-preview.1 under /face/v1.3-preview.1
// (several attempts per session, client IPs, abuse monitoring and the settings
// operations; docs/emulator.md), plus an /emulator/* side door that plays the end
// user's device, inspects state and injects faults.
//
// Azure is not reachable from the project's machines, so every test, demo and fault
// test talks to this emulator. It is therefore deliberately strict: it accepts only the
// wire format the spec declares (exact JSON and multipart names, enum spellings, value
// ranges, image limits) so that code which passes against it also works against the
// real service. It is an independent implementation of the wire format and shares no
// types with the project's Face client.
//
// Typical in-process use:
//
//	srv := emulator.New(emulator.Config{APIKeys: []string{"test-key"}})
//	ts := httptest.NewServer(srv)
//	defer ts.Close()
//	// point the Face client at ts.URL; drive attempts with srv.Attempt or POST /emulator/attempts
package emulator
