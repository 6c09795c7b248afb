package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/liveness-operator/liveness-operator/pkg/livenessclient"
)

// plugin is what every subcommand shares: the connection flags and the output streams.
type plugin struct {
	flags   *genericclioptions.ConfigFlags
	streams genericiooptions.IOStreams
}

// newRootCommand builds "kubectl liveness" with its subcommands.
func newRootCommand(streams genericiooptions.IOStreams) *cobra.Command {
	p := &plugin{flags: genericclioptions.NewConfigFlags(true), streams: streams}
	root := &cobra.Command{
		Use:   "kubectl-liveness",
		Short: "Run and inspect liveness-operator LivenessSessions",
		Long: "kubectl liveness creates LivenessSessions, waits for them, describes them, asks the operator\n" +
			"for an immediate result sync, and prints a session's auth token for scripts.",
		SilenceUsage: true,
		Annotations: map[string]string{
			cobra.CommandDisplayNameAnnotation: "kubectl liveness",
		},
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	p.flags.AddFlags(root.PersistentFlags())
	root.AddCommand(p.createCommand(), p.waitCommand(), p.describeCommand(), p.syncCommand(), p.tokenCommand())
	return root
}

// client connects with the standard flags, in -n/--namespace or the context's namespace.
func (p *plugin) client() (*livenessclient.Client, error) {
	cfg, err := p.flags.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	ns, _, err := p.flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, fmt.Errorf("namespace: %w", err)
	}
	return livenessclient.New(cfg, ns)
}
