package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// buildKernel builds ./kernel into a temporary file beside the installed
// binary and moves it into place only when it differs from what is there.
func buildKernel(ctx context.Context, cfg config, rep *reporter) error {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("building gopherlab needs the go command on PATH: %w", err)
	}
	dest := cfg.binPath()
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".gopherlab.build-*")
	if err != nil {
		return err
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName) // a no-op after the rename
	// Without VCS stamping, unchanged sources give a byte-identical binary
	// even after unrelated commits, so a rerun reports "unchanged".
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, goCmd, "build", "-buildvcs=false", "-o", tmpName, "./kernel")
	cmd.Dir = cfg.src
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./kernel in %s: %v\n%s", cfg.src, err, strings.TrimSpace(stderr.String()))
	}
	same, err := sameFile(tmpName, dest)
	if err != nil {
		return err
	}
	if same {
		rep.unchanged("gopherlab binary %s", dest)
		return nil
	}
	if err := os.Chmod(tmpName, 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmpName, dest); err != nil {
		return err
	}
	rep.did("built and installed gopherlab binary %s", dest)
	return nil
}
