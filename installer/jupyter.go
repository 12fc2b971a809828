package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// debianJupyterPackages are the Debian packages gopherlab needs to be used
// from Jupyter: the notebook server and nbconvert as frontends, the client
// library (also used by the tests), and ipykernel for comparison benchmarks.
var debianJupyterPackages = []string{
	"python3-jupyter-client",
	"jupyter-nbconvert",
	"jupyter-notebook",
	"python3-ipykernel",
}

// missingDebianPackages returns the packages dpkg does not report installed.
func missingDebianPackages(ctx context.Context, pkgs []string) []string {
	var missing []string
	for _, p := range pkgs {
		out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f=${Status}", p).Output()
		if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "installed") {
			missing = append(missing, p)
		}
	}
	return missing
}

// debianPackages lists what --jupyter installs: the Jupyter packages, and
// npm (which fetches ONNX Runtime) when the library is wanted and npm is
// not on PATH.
func debianPackages(withORT bool) []string {
	pkgs := append([]string(nil), debianJupyterPackages...)
	if _, err := exec.LookPath("npm"); err != nil && withORT {
		pkgs = append(pkgs, "npm")
	}
	return pkgs
}

// installDebianPackages apt-get installs the missing packages of pkgs, as
// root or through passwordless sudo.
func installDebianPackages(ctx context.Context, pkgs []string, rep *reporter, stdout, stderr io.Writer) error {
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("--jupyter needs apt-get (Debian or Ubuntu); install %s with your package manager", strings.Join(pkgs, " "))
	}
	missing := missingDebianPackages(ctx, pkgs)
	if len(missing) == 0 {
		rep.unchanged("Debian packages %s", strings.Join(pkgs, " "))
		return nil
	}
	var prefix []string
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("sudo"); err != nil || exec.CommandContext(ctx, "sudo", "-n", "true").Run() != nil {
			return fmt.Errorf("--jupyter: installing %s needs root; run: sudo apt-get install -y %s", strings.Join(missing, " "), strings.Join(missing, " "))
		}
		prefix = []string{"sudo", "-n"}
	}
	aptRun := func(args ...string) error {
		argv := append(append(append([]string{}, prefix...), "apt-get"), args...)
		fmt.Fprintf(stdout, "  $ %s\n", strings.Join(argv, " "))
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = stdout, stderr
		return cmd.Run()
	}
	install := append([]string{"install", "-y", "--no-install-recommends"}, missing...)
	if err := aptRun(install...); err != nil {
		// A fresh machine often has no package lists yet.
		if err := aptRun("update"); err != nil {
			return fmt.Errorf("apt-get update: %w", err)
		}
		if err := aptRun(install...); err != nil {
			return fmt.Errorf("apt-get install %s: %w", strings.Join(missing, " "), err)
		}
	}
	rep.did("installed Debian packages %s", strings.Join(missing, " "))
	return nil
}

// haveJupyterNotebook reports whether the jupyter-notebook command exists.
func haveJupyterNotebook() bool {
	_, err := exec.LookPath("jupyter-notebook")
	return err == nil
}
