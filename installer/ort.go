package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// The ONNX Runtime shared library comes from the npm package
// onnxruntime-node at a pinned version. Both the package tarball and the
// extracted library are checked against these digests, so a changed
// registry artifact is refused instead of installed.
const (
	ortPackage = "onnxruntime-node"
	ortVersion = "1.30.0"
	// ortTarballSHA256 is the SHA-256 of onnxruntime-node-1.30.0.tgz as the
	// npm registry serves it (npm's own integrity: sha1 8d4c4a75…).
	ortTarballSHA256 = "6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75"
	// ORTLibName is the library's file name (its ELF SONAME).
	ORTLibName = "libonnxruntime.so.1"
	// ortDevLinkName is the unversioned name, a symlink to ORTLibName, for
	// loaders that ask for libonnxruntime.so.
	ortDevLinkName = "libonnxruntime.so"
)

// ortLibs maps GOARCH to the library's path inside the tarball and its SHA-256.
var ortLibs = map[string]struct{ member, sha256 string }{
	"amd64": {"package/bin/napi-v6/linux/x64/" + ORTLibName, "ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23"},
	"arm64": {"package/bin/napi-v6/linux/arm64/" + ORTLibName, "1f549d46250b005580b597f4164984aaf75b3bcb9f3aeb07c7f8a8fe60b23c76"},
}

// ortTarballName is the file name npm pack writes.
func ortTarballName() string { return ortPackage + "-" + ortVersion + ".tgz" }

// installORT puts the pinned libonnxruntime into libDir. When the library is
// already there with the right digest nothing is fetched. tarball, when set,
// is a local copy of the npm tarball to use instead of running npm pack;
// it is verified all the same.
func installORT(ctx context.Context, libDir, tarball string, rep *reporter) error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf("ONNX Runtime: only linux is supported by this installer (GOOS=%s); use --no-ort", runtime.GOOS)
	}
	want, ok := ortLibs[runtime.GOARCH]
	if !ok {
		return fmt.Errorf("ONNX Runtime: %s has no linux/%s build; use --no-ort", ortPackage, runtime.GOARCH)
	}
	dest := filepath.Join(libDir, ORTLibName)
	have, err := fileSHA256(dest)
	switch {
	case err == nil && have == want.sha256:
		rep.unchanged("ONNX Runtime %s library %s", ortVersion, dest)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return err
	default:
		if tarball == "" {
			tmp, err := os.MkdirTemp("", "gopherlab-ort-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			if tarball, err = npmPack(ctx, tmp); err != nil {
				return err
			}
		}
		if err := verifyTarball(tarball); err != nil {
			return err
		}
		if err := extractORT(tarball, want.member, want.sha256, dest); err != nil {
			return err
		}
		rep.did("installed ONNX Runtime %s library %s (from npm %s@%s, sha256 verified)", ortVersion, dest, ortPackage, ortVersion)
	}
	changed, err := replaceSymlink(ORTLibName, filepath.Join(libDir, ortDevLinkName))
	if err != nil {
		return fmt.Errorf("ONNX Runtime: linking %s: %w", ortDevLinkName, err)
	}
	if changed {
		rep.did("linked %s -> %s", filepath.Join(libDir, ortDevLinkName), ORTLibName)
	}
	return nil
}

// npmPack downloads the pinned onnxruntime-node tarball into dir with
// `npm pack` (which fetches the registry tarball as is and runs no install
// scripts) and returns its path.
func npmPack(ctx context.Context, dir string) (string, error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("ONNX Runtime: npm is needed to fetch %s@%s (apt-get install npm), or pass --no-ort: %w", ortPackage, ortVersion, err)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, npm, "pack", "--ignore-scripts", "--silent", "--pack-destination", dir, ortPackage+"@"+ortVersion)
	cmd.Dir = dir
	cmd.Stderr = &stderr
	cmd.Stdout = io.Discard
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("ONNX Runtime: npm pack %s@%s failed: %v\n%s", ortPackage, ortVersion, err, strings.TrimSpace(stderr.String()))
	}
	p := filepath.Join(dir, ortTarballName())
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("ONNX Runtime: npm pack did not write %s: %w", p, err)
	}
	return p, nil
}

// verifyTarball checks the tarball's SHA-256 against the pinned digest.
func verifyTarball(path string) error {
	got, err := fileSHA256(path)
	if err != nil {
		return fmt.Errorf("ONNX Runtime: %w", err)
	}
	if got != ortTarballSHA256 {
		return fmt.Errorf("ONNX Runtime: %s has sha256 %s, want %s (%s@%s); refusing to install it", path, got, ortTarballSHA256, ortPackage, ortVersion)
	}
	return nil
}

// extractORT copies one member of the gzipped tarball to dest, atomically,
// and only if its SHA-256 matches wantSHA.
func extractORT(tarball, member, wantSHA, dest string) error {
	f, err := os.Open(tarball)
	if err != nil {
		return fmt.Errorf("ONNX Runtime: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("ONNX Runtime: %s: %w", tarball, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return fmt.Errorf("ONNX Runtime: %s has no member %s", tarball, member)
		}
		if err != nil {
			return fmt.Errorf("ONNX Runtime: reading %s: %w", tarball, err)
		}
		if hdr.Name != member || hdr.Typeflag != tar.TypeReg {
			continue
		}
		return writeAtomic(dest, 0o755, func(w io.Writer) error {
			h := sha256.New()
			if _, err := io.Copy(io.MultiWriter(w, h), tr); err != nil {
				return fmt.Errorf("ONNX Runtime: extracting %s from %s: %w", member, tarball, err)
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != wantSHA {
				return fmt.Errorf("ONNX Runtime: %s in %s has sha256 %s, want %s; refusing to install it", member, tarball, got, wantSHA)
			}
			return nil
		})
	}
}
