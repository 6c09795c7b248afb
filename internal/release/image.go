package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// LayoutDir is an image's OCI layout folder, relative to dist/.
func LayoutDir(img Image) string { return filepath.Join("images", img.Name) }

// writeImage builds the image index of one image (one image per platform) and writes it as
// the only entry of the OCI layout dist/images/<name>, tagged with the version.
func writeImage(o Options, img Image, bins map[Platform]string) (ImageRecord, error) {
	rec := ImageRecord{Name: img.Name, Repository: o.Repository(img), Tag: o.Version, Platforms: map[string]string{},
		Layout: LayoutDir(img)}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range o.Platforms {
		path, ok := bins[p]
		if !ok {
			return rec, fmt.Errorf("no %s binary for %s", img.Binary, p)
		}
		image, err := platformImage(o, img, p, path)
		if err != nil {
			return rec, fmt.Errorf("%s: %w", p, err)
		}
		digest, err := image.Digest()
		if err != nil {
			return rec, err
		}
		rec.Platforms[p.String()] = digest.String()
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: image,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: p.OS, Architecture: p.Arch}}})
	}
	idx = mutate.Annotations(idx, o.annotations(img)).(v1.ImageIndex)
	digest, err := idx.Digest()
	if err != nil {
		return rec, err
	}
	rec.Digest = digest.String()
	dir := filepath.Join(o.Out, rec.Layout)
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		return rec, err
	}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{AnnotationRefName: o.Version})); err != nil {
		return rec, err
	}
	return rec, fixModes(dir)
}

// platformImage is the image of one platform: a single layer holding /<binary> and a config
// that runs it as User, with no shell, no base image and nothing else.
func platformImage(o Options, img Image, p Platform, binary string) (v1.Image, error) {
	layerBytes, err := binaryLayer(img.Binary, binary, o)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerBytes)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	created := v1.Time{Time: o.Created.UTC()}
	image, err := mutate.Append(base, mutate.Addendum{Layer: layer, MediaType: types.OCILayer,
		History: v1.History{Created: created, CreatedBy: "liveness-operator release: /" + img.Binary + " (" + img.Package + ")"}})
	if err != nil {
		return nil, err
	}
	cf, err := image.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = p.OS, p.Arch, created
	cf.Config = v1.Config{
		User:       User,
		Entrypoint: []string{"/" + img.Binary},
		WorkingDir: "/",
		Labels:     o.annotations(img),
	}
	if image, err = mutate.ConfigFile(image, cf); err != nil {
		return nil, err
	}
	return mutate.Annotations(image, o.annotations(img)).(v1.Image), nil
}

// binaryLayer is the gzipped tar of the layer: the one file /<name>, owned by root (the image's
// user can run it but not change it), mode 0755, dated o.Created. Go's gzip output depends only
// on its input and level, and the header carries no time or name.
func binaryLayer(name, path string, o Options) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o755,
		Uid: 0, Gid: 0, ModTime: o.Created.UTC(), Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// fixModes gives every file of a layout mode 0644 and every folder 0755, whatever the umask:
// SHA256SUMS does not see modes, but an archive of dist/ would.
func fixModes(dir string) error {
	return filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() {
			return os.Chmod(path, 0o755)
		}
		return os.Chmod(path, 0o644)
	})
}
