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
	"strconv"
	"strings"
	"time"
)

const attemptUsage = `Usage: face-emulator attempt --endpoint URL --token TOKEN (--decision D | --error-code C) [flags]

Plays the end user's device: records the one liveness attempt of the session whose
authToken is TOKEN, with the outcome you choose, by calling POST URL/emulator/attempts.
Prints the recorded attempt as JSON (exactly as GET .../sessions/{id} will show it).

Examples:
  face-emulator attempt --endpoint http://127.0.0.1:43123 --token "$TOKEN" --decision realface
  face-emulator attempt --endpoint "$EP" --token "$TOKEN" --decision realface --match-confidence 0.93
  face-emulator attempt --endpoint "$EP" --token "$TOKEN" --error-code FaceWithMaskDetected

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
