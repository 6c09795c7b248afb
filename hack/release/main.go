// Command release builds a release of the operator into dist/ without Docker (internal/release):
//
//	go run ./hack/release --version v0.1.0 [--out dist] [--registry ghcr.io/liveness-operator]
//	go run ./hack/release push [--dist dist] [--registry ghcr.io/liveness-operator]
//
// push uploads a built release's image indexes to the registry it was built for, with the
// credentials `docker login` (or crane auth login) stored, and checks the digests.
//
// The commit and the time stamped everywhere come from git (HEAD, its committer time);
// SOURCE_DATE_EPOCH overrides the time, as reproducible-builds.org defines it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/liveness-operator/liveness-operator/internal/release"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "push" {
		return push(ctx, args[1:])
	}
	fs := flag.NewFlagSet("release", flag.ContinueOnError)
	o := release.Options{Log: os.Stderr}
	fs.StringVar(&o.Version, "version", "", "release version, vMAJOR.MINOR.PATCH (required)")
	fs.StringVar(&o.Out, "out", "dist", "output folder (emptied first)")
	fs.StringVar(&o.Registry, "registry", release.DefaultRegistry, "registry and path the images are published under")
	fs.StringVar(&o.Licenses, "licenses", "NOASSERTION", "SPDX expression of the org.opencontainers.image.licenses annotation")
	root := fs.String("root", ".", "repository root")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if o.Root, err = filepath.Abs(*root); err != nil {
		return err
	}
	if o.Out, err = filepath.Abs(o.Out); err != nil {
		return err
	}
	if o.Commit, o.Created, err = release.GitCommit(o.Root); err != nil {
		return err
	}
	if epoch := os.Getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		secs, err := strconv.ParseInt(epoch, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", epoch, err)
		}
		o.Created = time.Unix(secs, 0).UTC()
	}
	start := time.Now()
	m, err := release.Run(ctx, o)
	if err != nil {
		return err
	}
	for _, img := range m.Images {
		fmt.Printf("%s:%s@%s\n", img.Repository, img.Tag, img.Digest)
	}
	fmt.Fprintf(os.Stderr, "[release] %s written in %s\n", o.Out, time.Since(start).Round(time.Second))
	return nil
}

// push is the push subcommand.
func push(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("release push", flag.ContinueOnError)
	o := release.PushOptions{Log: func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "[release] "+format+"\n", args...)
	}}
	fs.StringVar(&o.Dist, "dist", "dist", "the release folder `make release` wrote")
	fs.StringVar(&o.Registry, "registry", "", "registry and path to push to; must be the one the release was built for (empty: that one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m, err := release.Push(ctx, o)
	if err != nil {
		return err
	}
	for _, img := range m.Images {
		fmt.Printf("%s:%s@%s\n", img.Repository, img.Tag, img.Digest)
	}
	return nil
}
