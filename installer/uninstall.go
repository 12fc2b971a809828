package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// uninstall removes what install put in place: the kernelspec directory,
// the binary and the ONNX Runtime library, and the directories they leave
// empty. User data (notebooks, the kernel's history file) is kept.
func uninstall(cfg config, rep *reporter) error {
	if _, err := os.Stat(cfg.specDir()); err == nil {
		if err := os.RemoveAll(cfg.specDir()); err != nil {
			return fmt.Errorf("removing the kernelspec: %w", err)
		}
		rep.removed("removed kernelspec %s", cfg.specDir())
	}
	for _, p := range []string{
		cfg.binPath(),
		filepath.Join(cfg.libDir(), ortDevLinkName),
		filepath.Join(cfg.libDir(), ORTLibName),
	} {
		err := os.Remove(p)
		switch {
		case err == nil:
			rep.removed("removed %s", p)
		case errors.Is(err, fs.ErrNotExist):
		default:
			return err
		}
	}
	// Remove directories that are now empty; a non-empty one is left alone.
	for _, d := range []string{filepath.Dir(cfg.binPath()), cfg.libDir(), cfg.home, filepath.Dir(cfg.specDir())} {
		os.Remove(d)
	}
	return nil
}
