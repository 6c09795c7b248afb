// Package release builds what a release of the operator ships, without Docker and with no
// network beyond the Go module proxy, into one folder (dist/): an OCI image layout per image
// (the manager and the Face emulator, linux/amd64 and linux/arm64, from static binaries and
// nothing else), install.yaml with the manager pinned by digest, the packaged Helm chart
// defaulting to the same digest, a CycloneDX SBOM per image, release.json and SHA256SUMS.
//
// Everything is a function of the source tree, the version and SOURCE_DATE_EPOCH: file
// modes, owners and times in every archive are fixed, JSON is written in a fixed order, and
// the Go binaries are built with -trimpath, so the same commit gives the same digests.
// hack/release is its command line; test/release checks the result.
package release

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Annotation keys of the OCI image spec that the release sets on every manifest and index.
const (
	AnnotationSource   = "org.opencontainers.image.source"
	AnnotationRevision = "org.opencontainers.image.revision"
	AnnotationVersion  = "org.opencontainers.image.version"
	AnnotationCreated  = "org.opencontainers.image.created"
	AnnotationLicenses = "org.opencontainers.image.licenses"
	AnnotationTitle    = "org.opencontainers.image.title"
	// AnnotationRefName names the index in an OCI layout's index.json: the tag that
	// `skopeo copy oci:<layout>:<tag>` selects.
	AnnotationRefName = "org.opencontainers.image.ref.name"
)

// DefaultRegistry is where the project's images are published, and so what install.yaml and
// the chart name unless a release is built for another registry.
const DefaultRegistry = "ghcr.io/liveness-operator"

// DefaultSource is the repository the annotations point at.
const DefaultSource = "https://github.com/liveness-operator/liveness-operator"

// Image is one image of the release.
type Image struct {
	// Name is the repository name under the registry and the layout's folder name.
	Name string
	// Package is the Go main package, relative to the repository root.
	Package string
	// Binary is the executable's name; the image holds it as /<Binary>, its entrypoint.
	Binary string
}

// ManagerImage is the manager image's name, the one install.yaml and the chart run.
const ManagerImage = "liveness-operator"

// Images are the release's images.
var Images = []Image{
	{Name: ManagerImage, Package: "./cmd/manager", Binary: "manager"},
	{Name: "face-emulator", Package: "./cmd/face-emulator", Binary: "face-emulator"},
}

// Platform is a GOOS/GOARCH pair.
type Platform struct {
	OS, Arch string
}

// String is "linux/amd64".
func (p Platform) String() string { return p.OS + "/" + p.Arch }

// DefaultPlatforms are the platforms every image index holds.
var DefaultPlatforms = []Platform{{"linux", "amd64"}, {"linux", "arm64"}}

// User is the numeric user and group the images run as (distroless' "nonroot", and the
// runAsUser of config/manager and the chart).
const User = "65532:65532"

// Options say what to build and where.
type Options struct {
	// Root is the repository's top folder.
	Root string
	// Out is the folder written (dist/); it is emptied first.
	Out string
	// Version is the release, vMAJOR.MINOR.PATCH[-pre]; the chart's version is it without "v".
	Version string
	// Commit is the full commit hash the release is built from.
	Commit string
	// Created is the time stamped everywhere a time is needed (SOURCE_DATE_EPOCH, or the
	// commit's time): the same commit gives the same digests.
	Created time.Time
	// Registry is the registry and path the images are published under, e.g.
	// ghcr.io/liveness-operator; install.yaml and the chart name <Registry>/<image name>.
	Registry string
	// Platforms are the platforms of each image index; empty: DefaultPlatforms.
	Platforms []Platform
	// Source is the repository URL of the source annotation; empty: DefaultSource.
	Source string
	// Licenses is the SPDX expression of the licenses annotation.
	Licenses string
	// Log receives progress lines; nil: none.
	Log io.Writer
}

// semver is the form a release version takes; Helm needs the chart version to be SemVer.
var semver = regexp.MustCompile(`^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$`)

// Validate checks the options before anything is built, so a wrong argument fails in a
// second rather than after the binaries.
func (o *Options) Validate() error {
	if !semver.MatchString(o.Version) {
		return fmt.Errorf("version %q: want vMAJOR.MINOR.PATCH, e.g. v0.1.0", o.Version)
	}
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(o.Commit) {
		return fmt.Errorf("commit %q: want a full 40-character hash", o.Commit)
	}
	if o.Created.IsZero() {
		return fmt.Errorf("no creation time: set SOURCE_DATE_EPOCH or build from a git checkout")
	}
	if err := validRegistry(o.Registry); err != nil {
		return err
	}
	if o.Root == "" || o.Out == "" {
		return fmt.Errorf("root and out folders are required")
	}
	if len(o.Platforms) == 0 {
		o.Platforms = DefaultPlatforms
	}
	if o.Source == "" {
		o.Source = DefaultSource
	}
	if o.Licenses == "" {
		return fmt.Errorf("licenses: an SPDX expression for the org.opencontainers.image.licenses annotation is required")
	}
	return nil
}

// validRegistry checks a registry prefix such as ghcr.io/liveness-operator or
// localhost:5000/team: lower case, no tag, no scheme.
func validRegistry(r string) error {
	if !regexp.MustCompile(`^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$`).MatchString(r) {
		return fmt.Errorf("registry %q: want a host and optional path, e.g. ghcr.io/liveness-operator (no scheme, no tag)", r)
	}
	return nil
}

// Repository is the image's repository under the release's registry.
func (o *Options) Repository(img Image) string { return o.Registry + "/" + img.Name }

func (o *Options) logf(format string, args ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, "[release] "+format+"\n", args...)
	}
}

// annotations are the OCI annotations of every manifest and index of the release.
func (o *Options) annotations(img Image) map[string]string {
	return map[string]string{
		AnnotationSource:   o.Source,
		AnnotationRevision: o.Commit,
		AnnotationVersion:  o.Version,
		AnnotationCreated:  o.Created.UTC().Format(time.RFC3339),
		AnnotationLicenses: o.Licenses,
		AnnotationTitle:    img.Name,
	}
}

// GitCommit and GitCommitTime are HEAD's hash and committer time in the repository at root.
func GitCommit(root string) (string, time.Time, error) {
	out, err := exec.Command("git", "-C", root, "log", "-1", "--format=%H %ct").Output()
	if err != nil {
		return "", time.Time{}, fmt.Errorf("git log in %s: %w", root, err)
	}
	hash, ct, _ := strings.Cut(strings.TrimSpace(string(out)), " ")
	secs, err := strconv.ParseInt(ct, 10, 64)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("commit time %q: %w", ct, err)
	}
	return hash, time.Unix(secs, 0).UTC(), nil
}

// Manifest is dist/release.json: what the release holds, for people and for tools (push
// reads it).
type Manifest struct {
	Version  string        `json:"version"`
	Commit   string        `json:"commit"`
	Created  string        `json:"created"`
	Registry string        `json:"registry"`
	Images   []ImageRecord `json:"images"`
	// Install is install.yaml's path relative to dist/.
	Install string `json:"install"`
	// Chart is the packaged chart's path relative to dist/.
	Chart string `json:"chart"`
}

// ImageRecord is one image of release.json.
type ImageRecord struct {
	Name       string `json:"name"`
	Repository string `json:"repository"`
	Tag        string `json:"tag"`
	// Digest is the image index's.
	Digest string `json:"digest"`
	// Platforms maps each platform to its image manifest's digest.
	Platforms map[string]string `json:"platforms"`
	// Layout is the OCI layout's path relative to dist/.
	Layout string `json:"layout"`
	// SBOM is the image's CycloneDX SBOM, relative to dist/.
	SBOM string `json:"sbom"`
}

// Image is the record of the release's image with that name.
func (m *Manifest) Image(name string) (ImageRecord, error) {
	for _, r := range m.Images {
		if r.Name == name {
			return r, nil
		}
	}
	return ImageRecord{}, fmt.Errorf("release %s has no image %q", m.Version, name)
}

// Ref is the image's repository@digest, as install.yaml names it.
func (r ImageRecord) Ref() string { return r.Repository + "@" + r.Digest }

// ReadManifest reads dist/release.json.
func ReadManifest(dist string) (*Manifest, error) {
	raw, err := os.ReadFile(filepath.Join(dist, "release.json"))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("release.json: %w", err)
	}
	return &m, nil
}

// Run builds the binaries and assembles the release into o.Out.
func Run(ctx context.Context, o Options) (*Manifest, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "liveness-release")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	bins, err := BuildBinaries(ctx, o, work)
	if err != nil {
		return nil, err
	}
	return Assemble(o, bins)
}

// Assemble writes the release into o.Out from binaries already built (BuildBinaries): the
// image layouts, install.yaml, the chart, the SBOMs, release.json and SHA256SUMS. It is
// separate from Run so tests can assemble twice from one build.
func Assemble(o Options, bins Binaries) (*Manifest, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(o.Out); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	m := &Manifest{Version: o.Version, Commit: o.Commit, Created: o.Created.UTC().Format(time.RFC3339), Registry: o.Registry}
	for _, img := range Images {
		rec, err := writeImage(o, img, bins[img.Name])
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", img.Name, err)
		}
		o.logf("image %s@%s", rec.Repository, rec.Digest)
		if err := writeSBOM(o, img, rec, bins[img.Name]); err != nil {
			return nil, fmt.Errorf("SBOM of %s: %w", img.Name, err)
		}
		rec.SBOM = filepath.ToSlash(SBOMFile(img))
		m.Images = append(m.Images, rec)
	}
	manager, err := m.Image(ManagerImage)
	if err != nil {
		return nil, err
	}
	if err := writeInstall(o, manager); err != nil {
		return nil, fmt.Errorf("%s: %w", InstallFile, err)
	}
	m.Install = InstallFile
	o.logf("%s with %s", InstallFile, manager.Ref())
	if m.Chart, err = writeChart(o, manager); err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	o.logf("chart %s", m.Chart)
	if err := writeJSON(filepath.Join(o.Out, "release.json"), m); err != nil {
		return nil, err
	}
	if err := writeSums(o.Out); err != nil {
		return nil, fmt.Errorf("SHA256SUMS: %w", err)
	}
	return m, nil
}

// writeJSON writes v indented, with a final newline; encoding/json orders struct fields as
// declared and map keys sorted, so the bytes depend only on v.
func writeJSON(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}
