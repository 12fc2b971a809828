// Command installer builds gopherlab and installs it for Jupyter.
//
//	go run ./installer [flags]
//
// It builds the gopherlab binary from ./kernel, installs the ONNX Runtime
// shared library taken from the pinned npm package onnxruntime-node
// (checksum verified), and installs the "gopherlab" kernelspec (kernel.json
// with the absolute binary path and the logos) into a Jupyter data
// directory. It is idempotent: a second run changes nothing and says so.
//
// Where things go:
//
//	--user (default)   kernelspec in $JUPYTER_DATA_DIR, $XDG_DATA_HOME/jupyter
//	                   or ~/.local/share/jupyter; binary and library in
//	                   ~/.local/share/gopherlab/{bin,lib}
//	--prefix DIR       kernelspec in DIR/share/jupyter, binary and library in
//	                   DIR/share/gopherlab/{bin,lib}
//	--sys-prefix       like --prefix with python's sys.prefix (/usr on Debian)
//	--home DIR         binary and library in DIR/{bin,lib}
//
// Other modes: --jupyter also installs Debian's Jupyter packages with
// apt-get; --run-notebooks executes the tutorial notebooks through the
// installed kernel and writes executed copies; --uninstall removes what the
// installer put in place.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

// config is what one installer run does. The zero value of each optional
// field means the default.
type config struct {
	src          string // module root; found from the working directory if empty
	home         string // gopherlab home: bin/ and lib/
	dataDir      string // Jupyter data dir; the kernelspec goes in dataDir/kernels/gopherlab
	python       string // python for --sys-prefix
	noORT        bool
	ortTarball   string // local onnxruntime-node tarball instead of npm pack
	jupyter      bool   // apt-get install Debian's Jupyter packages
	uninstall    bool
	runNotebooks bool
	notebooksDir string // default <src>/notebooks
	outDir       string // default <src>/out/notebooks
	allowErrors  bool
	nbconvert    bool // with runNotebooks, also execute them with jupyter nbconvert
	stdout       io.Writer
	stderr       io.Writer
}

func main() {
	var (
		cfg       config
		user      bool
		prefix    string
		sysPrefix bool
	)
	flag.BoolVar(&user, "user", true, "install the kernelspec for the current user (default)")
	flag.StringVar(&prefix, "prefix", "", "install the kernelspec into `DIR`/share/jupyter and the binary into DIR/share/gopherlab")
	flag.BoolVar(&sysPrefix, "sys-prefix", false, "install into python's sys.prefix (see --python), like --prefix")
	flag.StringVar(&cfg.home, "home", "", "install the binary and the ONNX Runtime library into `DIR`/bin and DIR/lib")
	flag.StringVar(&cfg.src, "src", "", "gopherlab source `DIR` (default: the module containing the working directory)")
	flag.StringVar(&cfg.python, "python", defaultPython(), "python `interpreter` whose sys.prefix --sys-prefix uses")
	flag.BoolVar(&cfg.noORT, "no-ort", false, "do not install the ONNX Runtime library")
	flag.StringVar(&cfg.ortTarball, "ort-tarball", "", "use this local onnxruntime-node-"+ortVersion+".tgz `FILE` instead of npm pack (verified all the same)")
	flag.BoolVar(&cfg.jupyter, "jupyter", false, "also install Debian's Jupyter packages (and npm, if missing) with apt-get (needs root or sudo)")
	flag.BoolVar(&cfg.uninstall, "uninstall", false, "remove the kernelspec, the binary and the library")
	flag.BoolVar(&cfg.runNotebooks, "run-notebooks", false, "after installing, execute the tutorial notebooks with `gopherlab run` and write executed copies")
	flag.StringVar(&cfg.notebooksDir, "notebooks", "", "notebooks `DIR` for --run-notebooks (default <src>/notebooks)")
	flag.StringVar(&cfg.outDir, "o", "", "output `DIR` for --run-notebooks (default <src>/out/notebooks)")
	flag.BoolVar(&cfg.nbconvert, "nbconvert", false, "with --run-notebooks, also execute the notebooks with `jupyter nbconvert --execute` into <o>/nbconvert")
	flag.BoolVar(&cfg.allowErrors, "allow-errors", false, "with --run-notebooks, keep going when a cell fails")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./installer [flags]\n\nBuilds gopherlab and installs it as the Jupyter kernel \"Go (gopherlab)\".\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "installer: unexpected argument %q\n", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}
	_ = user // --user is the default; it exists so that scripts can say so.

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg.stdout, cfg.stderr = os.Stdout, os.Stderr
	if err := resolve(ctx, &cfg, prefix, sysPrefix, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "installer:", err)
		os.Exit(2)
	}
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "installer:", err)
		os.Exit(1)
	}
}

// resolve fills in the directories of cfg from the flags and environment.
func resolve(ctx context.Context, cfg *config, prefix string, sysPrefix bool, getenv func(string) string) error {
	if prefix != "" && sysPrefix {
		return errors.New("--prefix and --sys-prefix exclude each other")
	}
	if sysPrefix {
		p, err := pythonSysPrefix(ctx, cfg.python)
		if err != nil {
			return err
		}
		prefix = p
	}
	var err error
	if prefix != "" {
		if prefix, err = filepath.Abs(prefix); err != nil {
			return err
		}
		cfg.dataDir = filepath.Join(prefix, "share", "jupyter")
		if cfg.home == "" {
			cfg.home = filepath.Join(prefix, "share", "gopherlab")
		}
	} else if cfg.dataDir == "" {
		if cfg.dataDir, err = userJupyterDataDir(getenv); err != nil {
			return err
		}
	}
	if cfg.home == "" {
		if cfg.home, err = defaultHome(getenv); err != nil {
			return err
		}
	}
	for _, p := range []*string{&cfg.home, &cfg.dataDir} {
		if *p, err = filepath.Abs(*p); err != nil {
			return err
		}
	}
	if cfg.src == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		cfg.src = wd
	}
	if cfg.src, err = findModuleRoot(cfg.src); err != nil {
		return err
	}
	if cfg.notebooksDir == "" {
		cfg.notebooksDir = filepath.Join(cfg.src, "notebooks")
	}
	if cfg.outDir == "" {
		cfg.outDir = filepath.Join(cfg.src, "out", "notebooks")
	}
	return nil
}

// binPath is where the gopherlab binary is installed.
func (c config) binPath() string { return filepath.Join(c.home, "bin", "gopherlab") }

// libDir is where the ONNX Runtime library is installed.
func (c config) libDir() string { return filepath.Join(c.home, "lib") }

// specDir is the kernelspec directory.
func (c config) specDir() string { return filepath.Join(c.dataDir, "kernels", kernelName) }

// run performs the install (or uninstall) described by cfg.
func run(ctx context.Context, cfg config) error {
	rep := &reporter{w: cfg.stdout}
	if cfg.uninstall {
		if err := uninstall(cfg, rep); err != nil {
			return err
		}
		if rep.changes == 0 {
			fmt.Fprintln(cfg.stdout, "Nothing to remove: gopherlab is not installed there.")
		} else {
			fmt.Fprintln(cfg.stdout, "gopherlab uninstalled. Your notebooks and the history file were left alone.")
		}
		return nil
	}
	if cfg.jupyter {
		if err := installDebianPackages(ctx, debianPackages(!cfg.noORT), rep, cfg.stdout, cfg.stderr); err != nil {
			return err
		}
	}
	if err := buildKernel(ctx, cfg, rep); err != nil {
		return err
	}
	if cfg.noORT {
		rep.note("skipped the ONNX Runtime library (--no-ort)")
	} else if err := installORT(ctx, cfg.libDir(), cfg.ortTarball, rep); err != nil {
		return err
	}
	if err := installKernelspec(cfg, rep); err != nil {
		return err
	}
	if rep.changes == 0 {
		fmt.Fprintln(cfg.stdout, "Nothing new: gopherlab is already installed and up to date.")
	}
	printNextSteps(cfg)
	if cfg.runNotebooks {
		return runNotebooks(ctx, cfg, rep)
	}
	return nil
}

// reporter prints what the installer does, one line per action, and counts
// the changes so that an idempotent rerun can say nothing changed.
type reporter struct {
	w       io.Writer
	changes int
}

func (r *reporter) did(format string, args ...any) {
	r.changes++
	fmt.Fprintf(r.w, "  + "+format+"\n", args...)
}

func (r *reporter) unchanged(format string, args ...any) {
	fmt.Fprintf(r.w, "  = "+format+" (unchanged)\n", args...)
}

func (r *reporter) removed(format string, args ...any) {
	r.changes++
	fmt.Fprintf(r.w, "  - "+format+"\n", args...)
}

func (r *reporter) note(format string, args ...any) {
	fmt.Fprintf(r.w, "  · "+format+"\n", args...)
}

func printNextSteps(cfg config) {
	fmt.Fprintf(cfg.stdout, `
gopherlab is installed as the Jupyter kernel "Go (gopherlab)".
  binary:     %s
  kernelspec: %s
Start Jupyter and pick "Go (gopherlab)" under New:
  jupyter notebook
Execute a notebook without a browser:
  %s run -o OUTDIR NOTEBOOK.ipynb
  jupyter nbconvert --to notebook --execute --ExecutePreprocessor.kernel_name=%s NOTEBOOK.ipynb
`, cfg.binPath(), cfg.specDir(), cfg.binPath(), kernelName)
	if !cfg.jupyter && !haveJupyterNotebook() {
		fmt.Fprintln(cfg.stdout, "Jupyter Notebook is not installed; `go run ./installer --jupyter` installs Debian's packages.")
	}
}
