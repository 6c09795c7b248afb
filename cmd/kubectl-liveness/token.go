package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

func (p *plugin) tokenCommand() *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "token NAME",
		Short: "Print a session's auth token (waits until it is published)",
		Long: "Print the session's auth token, read from its token Secret, on stdout and nothing else, for\n" +
			"scripts. It waits until the operator has published it. The token is a credential: hand it only\n" +
			"to the end user's device.",
		Example: `  TOKEN=$(kubectl liveness token login-42)`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := p.client()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			s, err := c.Session(ctx, args[0])
			if errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("timed out after %s: %w", timeout, err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(p.streams.Out, s.AuthToken)
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait for the token")
	return cmd
}
