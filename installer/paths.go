package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// modulePath is the module whose root the installer builds from.
const modulePath = "github.com/gopherlab/gopherlab"

// kernelName is the kernelspec directory name: what `jupyter kernelspec list`
// shows and what notebooks name in metadata.kernelspec.name.
const kernelName = "gopherlab"

// dataHome returns $XDG_DATA_HOME, or ~/.local/share when it is unset, as
// jupyter_core does on Linux.
func dataHome(getenv func(string) string) (string, error) {
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return d, nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot find the home directory: %w", err)
		}
		home = h
	}
	return filepath.Join(home, ".local", "share"), nil
}

// userJupyterDataDir is the per-user Jupyter data directory, following
// jupyter_core: $JUPYTER_DATA_DIR, else $XDG_DATA_HOME/jupyter, else
// ~/.local/share/jupyter.
func userJupyterDataDir(getenv func(string) string) (string, error) {
	if d := getenv("JUPYTER_DATA_DIR"); d != "" {
		return d, nil
	}
	h, err := dataHome(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(h, "jupyter"), nil
}

// defaultHome is where the binary (bin/) and the ONNX Runtime library (lib/)
// go for a per-user install: $XDG_DATA_HOME/gopherlab or
// ~/.local/share/gopherlab.
func defaultHome(getenv func(string) string) (string, error) {
	h, err := dataHome(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(h, "gopherlab"), nil
}

// defaultPython is the interpreter whose sys.prefix --sys-prefix uses:
// Debian's /usr/bin/python3 (the one its jupyter packages run on) when it
// exists, python3 from PATH otherwise.
func defaultPython() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

// pythonSysPrefix asks python for sys.prefix.
func pythonSysPrefix(ctx context.Context, python string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, python, "-c", "import sys; print(sys.prefix)")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("--sys-prefix: running %s to read sys.prefix: %v: %s", python, err, strings.TrimSpace(stderr.String()))
	}
	p := strings.TrimSpace(string(out))
	if p == "" || !filepath.IsAbs(p) {
		return "", fmt.Errorf("--sys-prefix: %s printed %q, not an absolute sys.prefix", python, p)
	}
	return p, nil
}

// findModuleRoot walks up from dir to the go.mod of the gopherlab module.
func findModuleRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			if modLine(data) == modulePath {
				return d, nil
			}
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod of module %s in %s or any parent; run the installer from a gopherlab checkout or pass --src", modulePath, dir)
		}
		d = parent
	}
}

// modLine returns the module path declared in a go.mod file.
func modLine(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "module"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
