package release

import (
	"crypto/sha256"
	"debug/buildinfo"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// SBOMFile is an image's CycloneDX SBOM, relative to dist/.
func SBOMFile(img Image) string { return filepath.Join("sbom", img.Name+".cdx.json") }

// SBOM is the part of a CycloneDX 1.5 JSON document the release writes: the image as the
// described component, and as its components the Go toolchain and every module linked into
// the image's only file, as the binary's build info records them.
type SBOM struct {
	BOMFormat    string           `json:"bomFormat"`
	SpecVersion  string           `json:"specVersion"`
	SerialNumber string           `json:"serialNumber"`
	Version      int              `json:"version"`
	Metadata     SBOMMetadata     `json:"metadata"`
	Components   []SBOMComponent  `json:"components"`
	Dependencies []SBOMDependency `json:"dependencies"`
}

// SBOMMetadata says when the SBOM was made, by what, and of what.
type SBOMMetadata struct {
	Timestamp string        `json:"timestamp"`
	Tools     SBOMTools     `json:"tools"`
	Component SBOMComponent `json:"component"`
}

// SBOMTools names the tool that wrote the SBOM.
type SBOMTools struct {
	Components []SBOMComponent `json:"components"`
}

// SBOMComponent is one CycloneDX component.
type SBOMComponent struct {
	BOMRef     string         `json:"bom-ref,omitempty"`
	Type       string         `json:"type"`
	Name       string         `json:"name"`
	Version    string         `json:"version,omitempty"`
	PURL       string         `json:"purl,omitempty"`
	Hashes     []SBOMHash     `json:"hashes,omitempty"`
	Properties []SBOMProperty `json:"properties,omitempty"`
}

// SBOMHash is a component's digest.
type SBOMHash struct {
	Alg     string `json:"alg"`
	Content string `json:"content"`
}

// SBOMProperty is a name-value pair CycloneDX has no field for (the module's go.sum hash).
type SBOMProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SBOMDependency says which components a component depends on.
type SBOMDependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn"`
}

// writeSBOM writes dist/sbom/<image>.cdx.json from the build info of the image's binaries:
// the modules are the same on every platform, which the SBOM checks rather than assumes.
func writeSBOM(o Options, img Image, rec ImageRecord, bins map[Platform]string) error {
	var mods []SBOMComponent
	var goVersion, mainPath string
	for i, p := range o.Platforms {
		info, err := buildinfo.ReadFile(bins[p])
		if err != nil {
			return fmt.Errorf("build info of %s for %s: %w", img.Binary, p, err)
		}
		got := moduleComponents(info)
		if i == 0 {
			mods, goVersion, mainPath = got, info.GoVersion, info.Main.Path
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(mods) || info.GoVersion != goVersion {
			return fmt.Errorf("%s links other modules for %s than for %s", img.Binary, p, o.Platforms[0])
		}
	}
	imageRef := "pkg:oci/" + img.Name + "@" + url.PathEscape(rec.Digest) + "?repository_url=" + url.QueryEscape(rec.Repository)
	app := SBOMComponent{BOMRef: "pkg:golang/" + mainPath + "@" + o.Version, Type: "application", Name: mainPath,
		Version: o.Version, PURL: "pkg:golang/" + mainPath + "@" + o.Version,
		Properties: []SBOMProperty{{Name: "liveness-operator:package", Value: img.Package},
			{Name: "liveness-operator:commit", Value: o.Commit}}}
	toolchain := SBOMComponent{BOMRef: "pkg:golang/stdlib@" + goVersion, Type: "library", Name: "stdlib",
		Version: goVersion, PURL: "pkg:golang/stdlib@" + goVersion}
	components := append([]SBOMComponent{app, toolchain}, mods...)
	appDeps := SBOMDependency{Ref: app.BOMRef, DependsOn: []string{toolchain.BOMRef}}
	for _, m := range mods {
		appDeps.DependsOn = append(appDeps.DependsOn, m.BOMRef)
	}
	doc := SBOM{
		BOMFormat:    "CycloneDX",
		SpecVersion:  "1.5",
		SerialNumber: serialNumber(rec.Digest),
		Version:      1,
		Metadata: SBOMMetadata{
			Timestamp: o.Created.UTC().Format(time.RFC3339),
			Tools: SBOMTools{Components: []SBOMComponent{{Type: "application", Name: "liveness-operator release",
				Version: o.Version}}},
			Component: SBOMComponent{BOMRef: imageRef, Type: "container", Name: rec.Repository, Version: o.Version,
				PURL: imageRef, Hashes: []SBOMHash{{Alg: "SHA-256", Content: strings.TrimPrefix(rec.Digest, "sha256:")}}},
		},
		Components:   components,
		Dependencies: []SBOMDependency{{Ref: imageRef, DependsOn: []string{app.BOMRef}}, appDeps},
	}
	return writeJSON(filepath.Join(o.Out, SBOMFile(img)), doc)
}

// moduleComponents are the modules of a binary's build info, sorted by path, with a module's
// replacement (if any) as what is really linked.
func moduleComponents(info *buildinfo.BuildInfo) []SBOMComponent {
	var out []SBOMComponent
	for _, d := range info.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		purl := "pkg:golang/" + m.Path + "@" + m.Version
		c := SBOMComponent{BOMRef: purl, Type: "library", Name: m.Path, Version: m.Version, PURL: purl}
		if m.Sum != "" {
			c.Properties = []SBOMProperty{{Name: "go:sum", Value: m.Sum}}
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// serialNumber is a urn:uuid derived from the image digest (a name-based, version 5 style
// UUID over SHA-256), so the same image always has the same SBOM bytes.
func serialNumber(digest string) string {
	h := sha256.Sum256([]byte("liveness-operator sbom " + digest))
	h[6] = (h[6] & 0x0f) | 0x50
	h[8] = (h[8] & 0x3f) | 0x80
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}
