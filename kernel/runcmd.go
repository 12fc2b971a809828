package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gopherlab/gopherlab/kernel/client"
	"github.com/gopherlab/gopherlab/kernel/notebook"
	"github.com/gopherlab/gopherlab/kernel/wire"
)

const runUsage = `usage: gopherlab run [-o OUT] [--inplace] [--allow-errors] [--timeout D] NOTEBOOK...

Executes each notebook in a fresh gopherlab kernel (started as a separate
process and driven over ZMQ, exactly as Jupyter does) and saves the outputs
and execution counts, like "jupyter nbconvert --to notebook --execute".

Where results go:
  default       NAME.nbconvert.ipynb beside each input
  --inplace     overwrite each input notebook
  -o FILE.ipynb with a single notebook: that file
  -o DIR        into directory DIR, keeping each notebook's file name

When a cell fails, execution of that notebook stops, the notebook is saved
with the error, the failing notebook and cell are named on stderr and the
exit status is 1. With --allow-errors every cell runs and the status is 0.

Flags:
`

type runOptions struct {
	out         string
	inplace     bool
	allowErrors bool
	timeout     time.Duration
	startup     time.Duration
	kernelLog   bool
}

// parseInterleaved parses flags that may come before or after the
// positional arguments.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	var o runOptions
	fs := flag.NewFlagSet("gopherlab run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, runUsage); fs.PrintDefaults() }
	fs.StringVar(&o.out, "o", "", "output file (one notebook) or directory")
	fs.StringVar(&o.out, "output", "", "same as -o")
	fs.BoolVar(&o.inplace, "inplace", false, "overwrite the input notebooks")
	fs.BoolVar(&o.allowErrors, "allow-errors", false, "keep executing after a cell fails and exit 0")
	fs.DurationVar(&o.timeout, "timeout", 0, "maximum run time of one cell, e.g. 10m (0: no limit)")
	fs.DurationVar(&o.startup, "startup-timeout", 60*time.Second, "how long to wait for the kernel to start")
	fs.BoolVar(&o.kernelLog, "kernel-log", false, "copy the kernel's log to stderr")
	paths, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(paths) == 0 {
		fs.Usage()
		return 2
	}
	if o.inplace && o.out != "" {
		fmt.Fprintln(stderr, "gopherlab run: -o and --inplace cannot be used together")
		return 2
	}
	failed := false
	for _, p := range paths {
		dst, err := outputPath(p, o, len(paths))
		if err != nil {
			fmt.Fprintf(stderr, "gopherlab run: %v\n", err)
			return 2
		}
		fmt.Fprintf(stderr, "[gopherlab run] executing %s\n", p)
		start := time.Now()
		res, err := runNotebook(context.Background(), p, dst, o, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "gopherlab run: %s: %v\n", p, err)
			failed = true
			continue
		}
		fmt.Fprintf(stderr, "[gopherlab run] wrote %s (%d cells executed in %v)\n", dst, res.executed, time.Since(start).Round(time.Millisecond))
		for _, f := range res.failures {
			fmt.Fprintf(stderr, "gopherlab run: %s: %s\n", p, f)
		}
		if len(res.failures) > 0 && !o.allowErrors {
			failed = true
		}
	}
	if failed {
		return 1
	}
	return 0
}

// outputPath decides where the executed copy of in is written.
func outputPath(in string, o runOptions, n int) (string, error) {
	switch {
	case o.inplace:
		return in, nil
	case o.out == "":
		return strings.TrimSuffix(in, ".ipynb") + ".nbconvert.ipynb", nil
	case n == 1 && strings.HasSuffix(o.out, ".ipynb"):
		return o.out, nil
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(o.out, filepath.Base(in))
	if same(dst, in) {
		dst = strings.TrimSuffix(dst, ".ipynb") + ".nbconvert.ipynb"
	}
	return dst, nil
}

func same(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

type runResult struct {
	executed int
	failures []string
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
	tee io.Writer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tee != nil {
		t.tee.Write(p)
	}
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.b))
}

// kernelProcess is a gopherlab kernel started as a child process.
type kernelProcess struct {
	cmd  *exec.Cmd
	dir  string // holds the connection file
	logs *tailBuffer
	dead chan struct{}
	err  error // exit status, valid after dead is closed
}

// startKernel launches this executable as "gopherlab kernel" with a fresh
// connection file, working in workDir.
func startKernel(workDir string, logTee io.Writer) (*kernelProcess, *wire.ConnectionInfo, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	dir, err := os.MkdirTemp("", "gopherlab-run-")
	if err != nil {
		return nil, nil, err
	}
	ci, err := wire.NewTCPConnectionInfo("127.0.0.1")
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	connFile := filepath.Join(dir, "kernel.json")
	if err := ci.WriteFile(connFile); err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	k := &kernelProcess{dir: dir, logs: &tailBuffer{max: 16 << 10, tee: logTee}, dead: make(chan struct{})}
	k.cmd = exec.Command(exe, "kernel", connFile)
	k.cmd.Dir = workDir
	// As jupyter_client does: the kernel exits if this process goes away.
	k.cmd.Env = append(os.Environ(), "JPY_PARENT_PID="+strconv.Itoa(os.Getpid()))
	k.cmd.Stdout = k.logs
	k.cmd.Stderr = k.logs
	if err := k.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("starting the kernel: %w", err)
	}
	go func() {
		k.err = k.cmd.Wait()
		close(k.dead)
	}()
	return k, ci, nil
}

// stop asks the kernel to shut down and kills it if it does not exit.
func (k *kernelProcess) stop(c *client.Client) {
	if c != nil {
		select {
		case <-k.dead:
		default:
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			c.Shutdown(ctx, false)
			cancel()
		}
		c.Close()
	}
	select {
	case <-k.dead:
	case <-time.After(5 * time.Second):
		k.cmd.Process.Kill()
		<-k.dead
	}
	os.RemoveAll(k.dir)
}

func (k *kernelProcess) diedError() error {
	msg := "the kernel died"
	if k.err != nil {
		msg += " (" + k.err.Error() + ")"
	}
	if l := k.logs.String(); l != "" {
		msg += "; its last log lines:\n" + l
	}
	return errors.New(msg)
}

// runNotebook executes the notebook at path and writes it to dst.
func runNotebook(ctx context.Context, path, dst string, o runOptions, stderr io.Writer) (*runResult, error) {
	nb, err := notebook.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var tee io.Writer
	if o.kernelLog {
		tee = stderr
	}
	k, ci, err := startKernel(filepath.Dir(path), tee)
	if err != nil {
		return nil, err
	}
	// The kernel's life bounds every wait below.
	kctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-k.dead:
			cancel()
		case <-kctx.Done():
		}
	}()
	startCtx, startCancel := context.WithTimeout(kctx, o.startup)
	c, err := client.Dial(startCtx, ci, client.Options{})
	if err == nil {
		err = c.WaitReady(startCtx)
	}
	var info *client.KernelInfo
	if err == nil {
		info, err = c.KernelInfo(startCtx)
	}
	startCancel()
	if err != nil {
		select {
		case <-k.dead:
			err = k.diedError()
		default:
		}
		k.stop(c)
		return nil, fmt.Errorf("kernel did not start: %w", err)
	}
	defer k.stop(c)

	setMetadata(nb, info)
	res := &runResult{}
	disp := displayMap{}
	for _, i := range nb.CodeCells() {
		cl := nb.Cells[i]
		cl.Outputs = []notebook.Output{}
		cl.ExecutionCount = nil
		disp.forgetCell(i)
		if strings.TrimSpace(cl.Source) == "" {
			continue
		}
		cellCtx, cellCancel := kctx, context.CancelFunc(func() {})
		if o.timeout > 0 {
			cellCtx, cellCancel = context.WithTimeout(kctx, o.timeout)
		}
		r, err := c.Execute(cellCtx, cl.Source, client.ExecuteOptions{ContinueOnError: o.allowErrors})
		cellCancel()
		res.executed++
		if err != nil {
			select {
			case <-k.dead:
				err = k.diedError()
			default:
				if errors.Is(err, context.DeadlineExceeded) {
					ictx, icancel := context.WithTimeout(kctx, 5*time.Second)
					c.Interrupt(ictx)
					icancel()
					err = fmt.Errorf("cell timed out after %v and was interrupted", o.timeout)
				}
			}
			cl.Outputs = append(cl.Outputs, notebook.Error("CellExecutionError", err.Error(), strings.Split(err.Error(), "\n")))
			res.failures = append(res.failures, describeFailure(nb, i, "CellExecutionError", err.Error()))
			break
		}
		applyOutputs(nb, i, r.Outputs, disp)
		if r.ExecutionCount > 0 {
			n := r.ExecutionCount
			cl.ExecutionCount = &n
		}
		if r.Status == "error" {
			res.failures = append(res.failures, describeFailure(nb, i, r.EName, r.EValue))
			if !o.allowErrors {
				break
			}
		}
	}
	if err := nb.WriteFile(dst); err != nil {
		return nil, err
	}
	return res, nil
}

func describeFailure(nb *notebook.Notebook, i int, ename, evalue string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(nb.Cells[i].Source), "\n")
	if len(first) > 60 {
		first = first[:60] + "..."
	}
	return fmt.Sprintf("cell index %d (id %s) failed: %s: %s\n    source: %s", i, nb.Cells[i].ID, ename, evalue, first)
}

// setMetadata records the kernelspec (if the notebook has none) and the
// language_info reported by the kernel, as nbconvert does.
func setMetadata(nb *notebook.Notebook, info *client.KernelInfo) {
	if _, ok := nb.Metadata["kernelspec"]; !ok {
		nb.Metadata["kernelspec"] = map[string]any{"name": "gopherlab", "display_name": "Go (gopherlab)", "language": "go"}
	}
	var li map[string]any
	if info != nil && json.Unmarshal(info.LanguageInfo, &li) == nil && li != nil {
		nb.Metadata["language_info"] = li
	}
}

// displayMap remembers where outputs with a display_id live, so that
// update_display_data can replace them, even in earlier cells.
type displayMap map[string][][2]int // display_id -> (cell, output) pairs

func (d displayMap) forgetCell(cellIdx int) {
	for id, locs := range d {
		kept := locs[:0]
		for _, l := range locs {
			if l[0] != cellIdx {
				kept = append(kept, l)
			}
		}
		d[id] = kept
	}
}

func (d displayMap) update(nb *notebook.Notebook, id string, data, meta map[string]any) {
	for _, l := range d[id] {
		outs := nb.Cells[l[0]].Outputs
		if l[1] < len(outs) {
			outs[l[1]]["data"] = orEmpty(data)
			outs[l[1]]["metadata"] = orEmpty(meta)
		}
	}
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// applyOutputs turns the iopub outputs of cell i into nbformat outputs the
// way Jupyter frontends do: consecutive stream text of the same name is
// merged, clear_output clears (at the next output when wait is set), and
// display updates replace earlier outputs.
func applyOutputs(nb *notebook.Notebook, i int, outs []client.Output, disp displayMap) {
	cl := nb.Cells[i]
	clearPending := false
	clear := func() {
		cl.Outputs = []notebook.Output{}
		disp.forgetCell(i)
		clearPending = false
	}
	for _, o := range outs {
		if o.Type == "clear_output" {
			if o.Wait {
				clearPending = true
			} else {
				clear()
			}
			continue
		}
		if o.Type == "update_display_data" {
			disp.update(nb, o.DisplayID, o.Data, o.Metadata)
			continue
		}
		if clearPending {
			clear()
		}
		switch o.Type {
		case "stream":
			if n := len(cl.Outputs); n > 0 && cl.Outputs[n-1].Type() == "stream" && cl.Outputs[n-1]["name"] == o.Name {
				if prev, ok := cl.Outputs[n-1]["text"].(string); ok {
					cl.Outputs[n-1]["text"] = prev + o.Text
					continue
				}
			}
			cl.Outputs = append(cl.Outputs, notebook.Stream(o.Name, o.Text))
		case "display_data":
			if o.DisplayID != "" {
				disp.update(nb, o.DisplayID, o.Data, o.Metadata)
				disp[o.DisplayID] = append(disp[o.DisplayID], [2]int{i, len(cl.Outputs)})
			}
			cl.Outputs = append(cl.Outputs, notebook.DisplayData(o.Data, o.Metadata))
		case "execute_result":
			cl.Outputs = append(cl.Outputs, notebook.ExecuteResult(o.ExecutionCount, o.Data, o.Metadata))
		case "error":
			cl.Outputs = append(cl.Outputs, notebook.Error(o.EName, o.EValue, o.Traceback))
		}
	}
}
