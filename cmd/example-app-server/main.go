// Command example-app-server is a reference app server for liveness-operator: it runs the
// app server's side of the Face liveness flow with pkg/livenessclient and serves a small web
// page that plays the whole flow in a browser. The HTTP API (JSON):
//
//	POST   /api/liveness-sessions                 {"verify": true, "referenceImage": "<base64>"} (body optional)
//	                                              -> 201 {"name", "sessionId", "authToken", "expiresAt"}
//	POST   /api/liveness-sessions/{name}/completed -> 202
//	GET    /api/liveness-sessions/{name}?wait=10s -> 200 {"outcome", "livenessDecision", "attempts"}
//	DELETE /api/liveness-sessions/{name}          -> 204
//
// See docs/app-server.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/liveness-operator/liveness-operator/internal/version"
	"github.com/liveness-operator/liveness-operator/pkg/livenessclient"
)

func main() {
	version.ExitIfRequested("example-app-server")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run parses flags, connects to the cluster and serves until ctx ends. The first line on
// stdout is "example-app-server listening on http://HOST:PORT", so scripts and tests can use
// --listen with port 0.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("example-app-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config or in-cluster)")
	namespace := fs.String("namespace", "", "namespace of the LivenessSessions (default: the kubeconfig context's)")
	listen := fs.String("listen", "127.0.0.1:8088", "address to serve on; port 0 picks a free port")
	emulatorEndpoint := fs.String("face-emulator-endpoint", "",
		"DEVELOPMENT ONLY: the Face emulator's URL; serves /dev/face-emulator/attempts so the page's stand-in SDK can play the end user")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "example-app-server: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	sessions, err := livenessclient.NewFromKubeconfig(*kubeconfig, *namespace)
	if err != nil {
		fmt.Fprintln(stderr, "example-app-server:", err)
		return 1
	}
	handler, err := newServer(sessions, log, *emulatorEndpoint)
	if err != nil {
		fmt.Fprintln(stderr, "example-app-server:", err)
		return 2
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "example-app-server:", err)
		return 1
	}
	fmt.Fprintf(stdout, "example-app-server listening on http://%s\n", ln.Addr())
	log.Info("serving", "namespace", sessions.Namespace(), "faceEmulatorPassThrough", *emulatorEndpoint != "")

	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	errs := make(chan error, 1)
	go func() { errs <- srv.Serve(ln) }()
	select {
	case err := <-errs:
		fmt.Fprintln(stderr, "example-app-server:", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		fmt.Fprintln(stderr, "example-app-server: shutdown:", err)
		return 1
	}
	return 0
}
