package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
)

// runNotebooks executes every .ipynb in cfg.notebooksDir through the
// installed binary (`gopherlab run -o OUT ...`) and writes the executed
// copies to cfg.outDir.
func runNotebooks(ctx context.Context, cfg config, rep *reporter) error {
	nbs, err := filepath.Glob(filepath.Join(cfg.notebooksDir, "*.ipynb"))
	if err != nil {
		return err
	}
	sort.Strings(nbs)
	if len(nbs) == 0 {
		return fmt.Errorf("--run-notebooks: no .ipynb files in %s", cfg.notebooksDir)
	}
	if err := os.MkdirAll(cfg.outDir, 0o755); err != nil {
		return err
	}
	args := []string{"run", "-o", cfg.outDir}
	if cfg.allowErrors {
		args = append(args, "--allow-errors")
	}
	args = append(args, nbs...)
	fmt.Fprintf(cfg.stdout, "\nExecuting %d notebooks from %s:\n  $ %s %v\n", len(nbs), cfg.notebooksDir, cfg.binPath(), args)
	cmd := exec.CommandContext(ctx, cfg.binPath(), args...)
	cmd.Stdout, cmd.Stderr = cfg.stdout, cfg.stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("--run-notebooks: gopherlab run: %w", err)
	}
	fmt.Fprintf(cfg.stdout, "Executed notebooks written to %s\n", cfg.outDir)
	return nil
}
