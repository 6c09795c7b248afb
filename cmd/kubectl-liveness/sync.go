package main

import (
	"fmt"

	"github.com/spf13/cobra"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

func (p *plugin) syncCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "sync NAME",
		Short: "Ask the operator to read the session's result from Face now",
		Long: "Set the annotation " + facev1.AnnotationSyncRequestedAt + " to the current time, as an app server\n" +
			"does when its frontend reports that the end user finished: the operator polls Face at once instead\n" +
			"of at its next scheduled poll.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := p.client()
			if err != nil {
				return err
			}
			if err := c.Completed(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(p.streams.Out, "livenesssession/%s sync requested\n", args[0])
			return nil
		},
	}
}
