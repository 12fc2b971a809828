package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
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
	if cfg.nbconvert {
		return nbconvertNotebooks(ctx, cfg, nbs)
	}
	return nil
}

// nbconvertNotebooks executes the notebooks a second time with
// `jupyter nbconvert --execute` through the installed kernelspec, writing
// the copies to <outDir>/nbconvert.
func nbconvertNotebooks(ctx context.Context, cfg config, nbs []string) error {
	out := filepath.Join(cfg.outDir, "nbconvert")
	args := []string{"nbconvert", "--to", "notebook", "--execute",
		"--ExecutePreprocessor.kernel_name=" + kernelName,
		"--ExecutePreprocessor.timeout=600", "--output-dir", out}
	if cfg.allowErrors {
		args = append(args, "--allow-errors")
	}
	args = append(args, nbs...)
	fmt.Fprintf(cfg.stdout, "\nExecuting them with Jupyter's nbconvert:\n  $ jupyter %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "jupyter", args...)
	// The kernelspec's data dir goes first on Jupyter's search path, so a
	// --prefix install is found even outside Jupyter's default paths.
	jpath := cfg.dataDir
	if p := os.Getenv("JUPYTER_PATH"); p != "" {
		jpath += string(os.PathListSeparator) + p
	}
	cmd.Env = append(os.Environ(), "JUPYTER_PATH="+jpath)
	cmd.Stdout, cmd.Stderr = cfg.stdout, cfg.stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("--nbconvert: jupyter nbconvert: %w", err)
	}
	fmt.Fprintf(cfg.stdout, "nbconvert copies written to %s\n", out)
	return nil
}
