package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

const attemptUsage = `Usage: face-emulator attempt --endpoint URL --token TOKEN (--decision D | --error-code C) [flags]

Plays the end user's device: records a liveness attempt of the session whose authToken
is TOKEN, with the outcome you choose, by calling POST URL/emulator/attempts. A v1.2
session takes one attempt; a v1.3-preview.1 session up to its
numberOfClientAttemptsAllowed. Prints the recorded attempt as JSON (exactly as
GET .../sessions/{id} will show it).

The v1.3 flags (--client-ip, --face-id, --face-image, --user-correlation-id) are for
sessions created under /face/v1.3-preview.1/; a v1.2 session refuses them. Without
--client-ip a v1.3 attempt records 127.0.0.1. The same --face-id (or the same
--face-image bytes) under different user correlation ids is what abuse monitoring flags.

Examples:
  face-emulator attempt --endpoint http://127.0.0.1:43123 --token "$TOKEN" --decision realface
  face-emulator attempt --endpoint "$EP" --token "$TOKEN" --decision realface --match-confidence 0.93
  face-emulator attempt --endpoint "$EP" --token "$TOKEN" --error-code FaceWithMaskDetected
  face-emulator attempt --endpoint "$EP" --token "$TOKEN" --decision realface --client-ip 203.0.113.7 --face-id alice

Flags:
`

// attempt implements the attempt subcommand.
func attempt(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, client *http.Client) int {
	fs := flag.NewFlagSet("attempt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", getenv("FACE_ENDPOINT"), "emulator base URL, e.g. http://127.0.0.1:43123 (default $FACE_ENDPOINT)")
	token := fs.String("token", getenv("FACE_SESSION_TOKEN"), "the session's authToken (default $FACE_SESSION_TOKEN)")
	decision := fs.String("decision", "", "liveness decision: realface, spoofface or uncertain")
	errorCode := fs.String("error-code", "", "record a failed attempt with this code instead, e.g. FaceWithMaskDetected")
	errorMessage := fs.String("error-message", "", "message for --error-code (default: the service's standard message)")
	timeout := fs.Duration("timeout", 10*time.Second, "request timeout")
	var clientIPs listFlag
	fs.Var(&clientIPs, "client-ip", "v1.3: client IP the service sees (repeatable, comma list; the emulator records 127.0.0.1 when absent)")
	faceID := fs.String("face-id", "", "v1.3: name of the face shown, for abuse monitoring")
	faceImage := fs.String("face-image", "", "v1.3: file whose SHA-256 names the face shown, for abuse monitoring (instead of --face-id)")
	userCorrelationID := fs.String("user-correlation-id", "", "v1.3: user id the client SDK supplies (sessions created with userCorrelationIdSetInClient=true)")
	var matchConfidence *float64
	fs.Func("match-confidence", "verify score 0..1 for liveness-with-verify sessions (default 0.95)", func(v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return errors.New("must be a number between 0 and 1")
		}
		matchConfidence = &f
		return nil
	})
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), attemptUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "face-emulator attempt: unexpected argument %q (see -h)\n", fs.Arg(0))
		return 2
	case *endpoint == "":
		fmt.Fprintln(stderr, "face-emulator attempt: --endpoint is required (see -h)")
		return 2
	case *token == "":
		fmt.Fprintln(stderr, "face-emulator attempt: --token is required (see -h)")
		return 2
	case (*decision == "") == (*errorCode == ""):
		fmt.Fprintln(stderr, "face-emulator attempt: give exactly one of --decision and --error-code (see -h)")
		return 2
	case *faceID != "" && *faceImage != "":
		fmt.Fprintln(stderr, "face-emulator attempt: give at most one of --face-id and --face-image (see -h)")
		return 2
	}

	body := map[string]any{}
	if *decision != "" {
		body["livenessDecision"] = *decision
	}
	if *errorCode != "" {
		body["errorCode"] = *errorCode
	}
	if *errorMessage != "" {
		body["errorMessage"] = *errorMessage
	}
	if matchConfidence != nil {
		body["matchConfidence"] = *matchConfidence
	}
	// The v1.3 fields are sent only when given, so that v1.2 sessions, which refuse
	// them, keep working with the defaults.
	if len(clientIPs) > 0 {
		body["clientIps"] = []string(clientIPs)
	}
	if *faceID != "" {
		body["faceId"] = *faceID
	}
	if *faceImage != "" {
		img, err := os.ReadFile(*faceImage)
		if err != nil {
			fmt.Fprintf(stderr, "face-emulator attempt: --face-image: %v\n", err)
			return 2
		}
		body["faceImage"] = img // base64 in JSON
	}
	if *userCorrelationID != "" {
		body["userCorrelationId"] = *userCorrelationID
	}
	payload, _ := json.Marshal(body)

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	url := strings.TrimRight(*endpoint, "/") + "/emulator/attempts"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		fmt.Fprintf(stderr, "face-emulator attempt: %v\n", err)
		return 2
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+*token)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "face-emulator attempt: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		fmt.Fprintf(stderr, "face-emulator attempt: reading response: %v\n", err)
		return 1
	}
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "face-emulator attempt: %s: %s\n", resp.Status, bytes.TrimSpace(out))
		return 1
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(out)
	}
	fmt.Fprintln(stdout, pretty.String())
	return 0
}
