// Package interop tests the installed gopherlab kernel with the real Jupyter
// tools users run it with: Debian's python3-jupyter-client (KernelManager and
// BlockingKernelClient), jupyter nbconvert --execute, the jupyter-notebook
// server driven by headless Chromium, and a benchmark next to ipykernel.
//
// TestMain builds the kernel and installs it with the project's installer
// into temporary Jupyter directories, so the tests exercise the same
// kernelspec a user gets from `go run ./installer`. The package has test
// files only.
//
// Tools that are missing make the tests skip, or fail when the environment
// variable CI is set.
package interop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// debianPython is the interpreter Debian's Jupyter packages are installed
// for; python3 on PATH may be another one without jupyter_client.
const debianPython = "/usr/bin/python3"

// setup is what TestMain prepared.
var setup struct {
	root    string // module root
	tmp     string // everything the tests write outside t.TempDir
	bin     string // installed gopherlab binary
	dataDir string // JUPYTER_DATA_DIR holding kernels/gopherlab
	skip    string // why every kernel test skips (prerequisite not there yet)
	err     error  // why every kernel test fails (setup broke)
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		tmp, err := os.MkdirTemp("", "gopherlab-interop-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmp)
		setup.tmp = tmp
		if testing.Short() {
			setup.skip = "integration tests with the real Jupyter tools; skipped with -short"
		} else {
			prepare()
		}
		return m.Run()
	}()
	os.Exit(code)
}

// prepare builds and installs the kernel into setup.tmp and points every
// Jupyter and kernel directory of child processes there, so that the tests
// neither see nor touch the user's own Jupyter setup.
func prepare() {
	root, err := filepath.Abs("../..") // tests run in the package directory
	if err != nil {
		setup.err = err
		return
	}
	setup.root = root
	t := setup.tmp
	for k, v := range map[string]string{
		"JUPYTER_DATA_DIR":    filepath.Join(t, "jupyter"),
		"JUPYTER_CONFIG_DIR":  filepath.Join(t, "jupyter-config"),
		"JUPYTER_RUNTIME_DIR": filepath.Join(t, "jupyter-runtime"),
		"JUPYTER_PATH":        "",
		"IPYTHONDIR":          filepath.Join(t, "ipython"),
		"XDG_DATA_HOME":       filepath.Join(t, "xdg-data"),
		"XDG_CACHE_HOME":      filepath.Join(t, "xdg-cache"),
		// ipykernel's debugger prints warnings about frozen modules otherwise.
		"PYDEVD_DISABLE_FILE_VALIDATION": "1",
	} {
		os.Setenv(k, v)
	}
	setup.dataDir = os.Getenv("JUPYTER_DATA_DIR")
	if bin := os.Getenv("GOPHERLAB_TEST_BIN"); bin != "" {
		// Test an already built binary (for example the one CI installed).
		setup.bin, setup.err = bin, writeKernelspec(root, bin, setup.dataDir)
		return
	}
	if m, _ := filepath.Glob(filepath.Join(root, "kernel", "*.go")); len(m) == 0 {
		setup.skip = "the gopherlab binary (./kernel package main) is not written yet"
		return
	}
	installer := filepath.Join(t, "installer")
	if out, err := goCmd(root, "build", "-o", installer, "./installer").CombinedOutput(); err != nil {
		setup.err = fmt.Errorf("building the installer: %v\n%s", err, out)
		return
	}
	home := filepath.Join(t, "gopherlab")
	cmd := exec.Command(installer, "--home", home, "--no-ort", "--src", root)
	if out, err := cmd.CombinedOutput(); err != nil {
		setup.err = fmt.Errorf("installing the kernel: %v\n%s", err, out)
		return
	}
	setup.bin = filepath.Join(home, "bin", "gopherlab")
}

// writeKernelspec installs the repository's kernel.json template with bin
// as argv[0], as the installer does, for GOPHERLAB_TEST_BIN runs.
func writeKernelspec(root, bin, dataDir string) error {
	data, err := os.ReadFile(filepath.Join(root, "kernel.json"))
	if err != nil {
		return err
	}
	var spec map[string]any
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("kernel.json: %w", err)
	}
	argv, _ := spec["argv"].([]any)
	if len(argv) == 0 {
		return errors.New("kernel.json: empty argv")
	}
	if bin, err = filepath.Abs(bin); err != nil {
		return err
	}
	argv[0] = bin
	out, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	dir := filepath.Join(dataDir, "kernels", "gopherlab")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "kernel.json"), out, 0o644)
}

func goCmd(dir string, args ...string) *exec.Cmd {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	return cmd
}

// missing skips the test, or fails it under CI, because a tool is missing.
func missing(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI: %v", what, err)
	}
	t.Skipf("%s is not available: %v", what, err)
}

// needKernel stops the test when the kernel could not be installed.
func needKernel(t testing.TB) {
	t.Helper()
	if setup.err != nil {
		t.Fatal(setup.err)
	}
	if setup.skip != "" {
		t.Skip(setup.skip)
	}
}

// Known evaluator bugs that keep a test, or a corpus cell, skipped. Each
// names the bug so that the skip is found and lifted when it is fixed; set
// the constant to "" to run the test again.
const (
	// bugUndefinedGlobal: an undefined name in the initializer of a
	// top-level variable (`y := undefinedVar + x`) was reported as yaegi's
	// "constant definition loop"; fixed in kernel/eval.
	bugUndefinedGlobal = ""
)

// pending skips t while the named bug is open.
func pending(t testing.TB, bug string) {
	t.Helper()
	if bug != "" {
		t.Skip(bug)
	}
}

// needJupyterClient checks for Debian's python3 with jupyter_client.
func needJupyterClient(t testing.TB) {
	t.Helper()
	needKernel(t)
	if out, err := exec.Command(debianPython, "-c", "import jupyter_client").CombinedOutput(); err != nil {
		missing(t, "Debian python3-jupyter-client ("+debianPython+")", fmt.Errorf("%v: %s", err, out))
	}
}

// kmsg is one Jupyter message as kdriver.py reports it.
type kmsg struct {
	MsgType  string            `json:"msg_type"`
	MsgID    string            `json:"msg_id"`
	ParentID string            `json:"parent_msg_id"`
	Header   map[string]string `json:"header"`
	Content  map[string]any    `json:"content"`
	Metadata map[string]any    `json:"metadata"`
}

// str returns a string field of the content ("" if absent).
func (m kmsg) str(key string) string {
	s, _ := m.Content[key].(string)
	return s
}

// answer is kdriver.py's answer to one command.
type answer struct {
	Error         string  `json:"error"`
	Trace         string  `json:"trace"`
	Ready         bool    `json:"ready"`
	StartupS      float64 `json:"startup_s"`
	MsgID         string  `json:"msg_id"`
	Reply         *kmsg   `json:"reply"`
	IOPub         []kmsg  `json:"iopub"`
	InputRequests []kmsg  `json:"input_requests"`
	Elapsed       float64 `json:"elapsed"`
	Exited        bool    `json:"exited"`
	ExitCode      *int    `json:"exit_code"`
	ExitS         float64 `json:"exit_s"`
	Alive         bool    `json:"alive"`
}

// of returns the iopub messages of one type.
func (a answer) of(msgType string) []kmsg {
	var out []kmsg
	for _, m := range a.IOPub {
		if m.MsgType == msgType {
			out = append(out, m)
		}
	}
	return out
}

// stream concatenates the text of one stream ("stdout" or "stderr").
func (a answer) stream(name string) string {
	var b strings.Builder
	for _, m := range a.of("stream") {
		if m.str("name") == name {
			b.WriteString(m.str("text"))
		}
	}
	return b.String()
}

// result returns the text/plain of the execute_result, and whether there was one.
func (a answer) result() (string, bool) {
	rs := a.of("execute_result")
	if len(rs) == 0 {
		return "", false
	}
	data, _ := rs[len(rs)-1].Content["data"].(map[string]any)
	s, _ := data["text/plain"].(string)
	return s, true
}

// errorOut returns the iopub error message, if any.
func (a answer) errorOut() (kmsg, bool) {
	es := a.of("error")
	if len(es) == 0 {
		return kmsg{}, false
	}
	return es[0], true
}

// states lists the execution_state of every status message.
func (a answer) states() []string {
	var s []string
	for _, m := range a.of("status") {
		s = append(s, m.str("execution_state"))
	}
	return s
}

// describe renders an answer for failure messages.
func (a answer) describe() string {
	var b strings.Builder
	if a.Error != "" {
		fmt.Fprintf(&b, "driver error: %s\n%s", a.Error, a.Trace)
	}
	if a.Reply != nil {
		c, _ := json.Marshal(a.Reply.Content)
		fmt.Fprintf(&b, "reply %s: %s\n", a.Reply.MsgType, c)
	}
	for _, m := range a.IOPub {
		c, _ := json.Marshal(m.Content)
		if len(c) > 600 {
			c = append(c[:600], "…"...)
		}
		fmt.Fprintf(&b, "iopub %s: %s\n", m.MsgType, c)
	}
	return b.String()
}

// pyClient is a running kdriver.py with its kernel.
type pyClient struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan []byte
	stderr *lockedBuffer
	start  answer
	closed bool
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startClient starts a kernel of the given kernelspec through
// jupyter_client's KernelManager and waits until it is ready.
func startClient(t testing.TB, kernelName string) *pyClient {
	t.Helper()
	needJupyterClient(t)
	cmd := exec.Command(debianPython, filepath.Join("testdata", "kdriver.py"), kernelName)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &pyClient{t: t, cmd: cmd, stdin: stdin, lines: make(chan []byte, 16), stderr: &lockedBuffer{}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 256<<20)
		for sc.Scan() {
			c.lines <- append([]byte(nil), sc.Bytes()...)
		}
		close(c.lines)
	}()
	t.Cleanup(c.close)
	c.start = c.read(90 * time.Second)
	if !c.start.Ready {
		t.Fatalf("jupyter_client could not start the %s kernel: %s\n%s\nstderr:\n%s", kernelName, c.start.Error, c.start.Trace, c.stderr.String())
	}
	return c
}

func (c *pyClient) read(timeout time.Duration) answer {
	c.t.Helper()
	select {
	case line, ok := <-c.lines:
		if !ok {
			c.cmd.Wait()
			c.t.Fatalf("kdriver.py exited: %v\nstderr:\n%s", c.cmd.ProcessState, c.stderr.String())
		}
		var a answer
		if err := json.Unmarshal(line, &a); err != nil {
			c.t.Fatalf("kdriver.py printed %q: %v", line, err)
		}
		return a
	case <-time.After(timeout):
		c.t.Fatalf("kdriver.py did not answer within %v\nstderr:\n%s", timeout, c.stderr.String())
	}
	return answer{}
}

// do sends one command and returns the answer; a driver-side error fails
// the test.
func (c *pyClient) do(cmd map[string]any) answer {
	c.t.Helper()
	a := c.try(cmd)
	if a.Error != "" {
		c.t.Fatalf("%v: %s\n%s\nkernel/driver stderr:\n%s", cmd["op"], a.Error, a.Trace, c.stderr.String())
	}
	return a
}

// try is do without failing on a driver-side error.
func (c *pyClient) try(cmd map[string]any) answer {
	c.t.Helper()
	line, err := json.Marshal(cmd)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.stdin.Write(append(line, '\n')); err != nil {
		c.t.Fatalf("writing to kdriver.py: %v\nstderr:\n%s", err, c.stderr.String())
	}
	timeout := 90 * time.Second
	if s, ok := cmd["timeout"].(int); ok {
		timeout = time.Duration(s+30) * time.Second
	}
	return c.read(timeout)
}

// execute runs code with default options plus the given extra fields.
func (c *pyClient) execute(code string, extra ...map[string]any) answer {
	c.t.Helper()
	cmd := map[string]any{"op": "execute", "code": code}
	for _, e := range extra {
		for k, v := range e {
			cmd[k] = v
		}
	}
	return c.do(cmd)
}

// request sends a request of msgType on channel and waits for its reply.
func (c *pyClient) request(channel, msgType string, content map[string]any) answer {
	c.t.Helper()
	if content == nil {
		content = map[string]any{}
	}
	return c.do(map[string]any{"op": "request", "channel": channel, "msg_type": msgType, "content": content})
}

func (c *pyClient) close() {
	if c.closed {
		return
	}
	c.closed = true
	c.stdin.Write([]byte(`{"op":"quit"}` + "\n"))
	c.stdin.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// mustOK fails unless the answer is a reply with status ok.
func mustOK(t testing.TB, what string, a answer) {
	t.Helper()
	if a.Reply == nil || a.Reply.str("status") != "ok" {
		t.Fatalf("%s: want status ok\n%s", what, a.describe())
	}
}
