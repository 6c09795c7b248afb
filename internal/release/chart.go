package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/ignore"
)

// ChartName is the chart's name, its folder under charts/ and the prefix of its archive.
const ChartName = "liveness-operator"

// ChartFile is the packaged chart's name in dist/ for a version: liveness-operator-0.1.0.tgz,
// as `helm package` names it.
func ChartFile(version string) string {
	return ChartName + "-" + strings.TrimPrefix(version, "v") + ".tgz"
}

// chartEdits are the lines of the chart's files that a release rewrites: Chart.yaml's version
// and appVersion, and values.yaml's image repository and digest. Each must match exactly once,
// so a chart whose layout changed fails the release instead of shipping the dev image.
func chartEdits(o Options, manager ImageRecord) map[string][]lineEdit {
	return map[string][]lineEdit{
		"Chart.yaml": {
			{regexp.MustCompile(`(?m)^version: .*$`), "version: " + strings.TrimPrefix(o.Version, "v")},
			{regexp.MustCompile(`(?m)^appVersion: .*$`), "appVersion: " + o.Version},
		},
		"values.yaml": {
			{regexp.MustCompile(`(?m)^  repository: .*$`), "  repository: " + manager.Repository},
			{regexp.MustCompile(`(?m)^  digest: .*$`), `  digest: "` + manager.Digest + `"`},
		},
	}
}

// lineEdit replaces the one line that re matches with line.
type lineEdit struct {
	re   *regexp.Regexp
	line string
}

// writeChart packages charts/liveness-operator into dist/liveness-operator-X.Y.Z.tgz, with
// the release's version and its image defaulting to the manager's repository@digest. The
// archive is what `helm package` writes (the files under liveness-operator/, .helmignore's
// patterns left out), with fixed owners, modes and times so it is reproducible.
func writeChart(o Options, manager ImageRecord) (string, error) {
	dir := filepath.Join(o.Root, "charts", ChartName)
	files, err := chartFiles(dir)
	if err != nil {
		return "", err
	}
	for name, edits := range chartEdits(o, manager) {
		data, ok := files[name]
		if !ok {
			return "", fmt.Errorf("chart has no %s", name)
		}
		for _, e := range edits {
			if n := len(e.re.FindAllIndex(data, -1)); n != 1 {
				return "", fmt.Errorf("chart %s: %d lines match %s, want exactly 1", name, n, e.re)
			}
			data = e.re.ReplaceAll(data, []byte(e.line))
		}
		files[name] = data
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: ChartName + "/" + name, Size: int64(len(files[name])),
			Mode: 0o644, ModTime: o.Created.UTC(), Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return "", err
		}
		if _, err := tw.Write(files[name]); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	name := ChartFile(o.Version)
	return name, os.WriteFile(filepath.Join(o.Out, name), buf.Bytes(), 0o644)
}

// chartFiles reads the chart's files (slash-separated paths relative to dir), leaving out
// what .helmignore names, with Helm's own ignore rules (as `helm package` applies them).
func chartFiles(dir string) (map[string][]byte, error) {
	rules := ignore.Empty()
	if _, err := os.Stat(filepath.Join(dir, ignore.HelmIgnore)); err == nil {
		if rules, err = ignore.ParseFile(filepath.Join(dir, ignore.HelmIgnore)); err != nil {
			return nil, err
		}
	}
	rules.AddDefaults()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		if rules.Ignore(rel, info) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files[rel] = data
		return nil
	})
	return files, err
}
