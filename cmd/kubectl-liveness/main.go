// Command kubectl-liveness is a kubectl plugin for LivenessSessions (kubectl liveness ...):
//
//	kubectl liveness create [NAME] [flags]        create a session; prints its name
//	kubectl liveness wait NAME --for=ready|completed|outcome=Live[,Verified] [--timeout=60s]
//	kubectl liveness describe NAME                conditions, attempts, account, times; never the token
//	kubectl liveness sync NAME                    ask the operator to read the result now
//	kubectl liveness token NAME                   the session's auth token, on stdout only
//
// It takes kubectl's standard connection flags (--kubeconfig, -n/--namespace, --context, ...).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/liveness-operator/liveness-operator/internal/version"
)

func main() {
	version.ExitIfRequested("kubectl-liveness")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	streams := genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
	if err := newRootCommand(streams).ExecuteContext(ctx); err != nil {
		os.Exit(1)
	}
}
