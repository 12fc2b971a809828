// Command gopherlab is a Jupyter kernel for Go.
//
// Usage:
//
//	gopherlab kernel CONNECTION_FILE   run the kernel (what Jupyter launches)
//	gopherlab run [flags] NOTEBOOK...  execute notebooks headlessly
//	gopherlab version                  print the version
//
// gopherlab run executes each notebook in a fresh kernel, through the same
// ZMQ protocol Jupyter uses, and writes outputs and execution counts like
// "jupyter nbconvert --to notebook --execute": by default to
// NAME.nbconvert.ipynb beside the input.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/gopherlab/gopherlab/kernel/server"
)

const usage = `gopherlab: a Jupyter kernel for Go

Usage:
  gopherlab kernel CONNECTION_FILE     run the kernel (launched by Jupyter)
  gopherlab run [flags] NOTEBOOK...    execute notebooks and save their outputs
  gopherlab version                    print version information

Run "gopherlab run -h" for the flags of run.
`

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "kernel":
		return cmdKernel(args[1:], stderr)
	case "run":
		return cmdRun(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "gopherlab %s (%s %s/%s, Jupyter protocol 5.3)\n", server.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "gopherlab: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
