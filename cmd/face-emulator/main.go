// Command face-emulator serves a local emulator of the Azure AI Face v1.2 and
// v1.3-preview.1 liveness API (see docs/emulator.md), and plays the end user's device
// against it.
//
//	face-emulator [serve] --listen 127.0.0.1:0 --api-key KEY [fault and quota flags]
//	face-emulator attempt --endpoint URL --token TOKEN --decision realface
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/liveness-operator/liveness-operator/internal/version"

	// CA roots inside the binary: the release image has no /etc/ssl.
	_ "github.com/liveness-operator/liveness-operator/internal/caroots"
)

func main() {
	version.ExitIfRequested("face-emulator")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

const topUsage = `face-emulator: a local emulator of the Azure AI Face v1.2 and v1.3-preview.1 liveness API.

Usage:
  face-emulator [serve] [flags]   serve the emulator (default subcommand)
  face-emulator attempt [flags]   play the end user: record a liveness attempt
  face-emulator help              this text

Run 'face-emulator serve -h' or 'face-emulator attempt -h' for the flags.
`

// run dispatches the subcommand and returns the process exit code (0 ok, 1 failure,
// 2 usage error). Everything it needs from the process is passed in, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 {
		switch args[0] {
		case "serve":
			return serve(ctx, args[1:], stdout, stderr, getenv)
		case "attempt":
			return attempt(ctx, args[1:], stdout, stderr, getenv, http.DefaultClient)
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, topUsage)
			return 0
		}
	}
	return serve(ctx, args, stdout, stderr, getenv)
}
