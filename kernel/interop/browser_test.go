package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chromium is Debian's Chromium, the browser the test drives.
const chromium = "/usr/bin/chromium"

// browserResult is what testdata/browser.mjs reports about the page.
type browserResult struct {
	Error             string   `json:"error"`
	KernelName        string   `json:"kernelName"`
	KernelDisplayName string   `json:"kernelDisplayName"`
	PromptNumbers     []any    `json:"promptNumbers"`
	TableHeaders      []string `json:"tableHeaders"`
	TableCells        []string `json:"tableCells"`
	SVGs              []struct {
		Width, Height float64
		Text          string
		Paths         int
	} `json:"svgs"`
	Progress []struct {
		State, Value, Total, Text string
	} `json:"progress"`
	Errors        []string `json:"errors"`
	Stdout        []string `json:"stdout"`
	ConsoleErrors []string `json:"consoleErrors"`
	Screenshot    string   `json:"screenshot"`
}

// TestBrowserNotebook runs testdata/browser.ipynb in Debian's
// jupyter-notebook server from headless Chromium (Cell > Run All) and checks
// that the table, the SVG chart and the finished progress bar are on the
// page. The screenshot goes to $GOPHERLAB_ARTIFACTS (or the test's temp dir).
func TestBrowserNotebook(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a notebook server and a browser; skipped with -short")
	}
	needJupyter(t, "notebook")
	if _, err := os.Stat(chromium); err != nil {
		missing(t, "Debian chromium (apt-get install -y chromium)", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node", err)
	}
	pw := filepath.Join(setup.root, ".ci", "node_modules", "playwright-core")
	if _, err := os.Stat(filepath.Join(pw, "index.mjs")); err != nil {
		missing(t, "npm playwright-core in .ci/node_modules (npm ci --prefix .ci)", err)
	}

	dir := t.TempDir()
	nbData, err := os.ReadFile(filepath.Join("testdata", "browser.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "browser.ipynb"), nbData, 0o644); err != nil {
		t.Fatal(err)
	}
	base, token := startNotebookServer(t, dir)

	artifacts := os.Getenv("GOPHERLAB_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	shot, err := filepath.Abs(filepath.Join(artifacts, "browser-notebook.png"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "browser.mjs"))
	cmd.Env = append(os.Environ(),
		"PLAYWRIGHT_CORE="+pw,
		"CHROMIUM="+chromium,
		"NOTEBOOK_URL="+base+"/notebooks/browser.ipynb?token="+token,
		"SCREENSHOT="+shot,
		"USER_DATA_DIR="+filepath.Join(t.TempDir(), "chromium-profile"),
		"TIMEOUT_MS=120000",
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Logf("browser log:\n%s", stderr.String())
	if err != nil {
		t.Fatalf("browser.mjs: %v\n%s", err, out)
	}
	var r browserResult
	if err := json.Unmarshal(bytes.TrimSpace(out), &r); err != nil {
		t.Fatalf("browser.mjs printed %q: %v", out, err)
	}
	if r.Screenshot != "" {
		t.Logf("screenshot: %s", r.Screenshot)
	}
	if r.Error != "" {
		t.Fatalf("in the browser: %s\nconsole errors: %q", r.Error, r.ConsoleErrors)
	}

	if r.KernelName != "gopherlab" || r.KernelDisplayName != "Go (gopherlab)" {
		t.Errorf("notebook runs kernel %q shown as %q, want gopherlab / Go (gopherlab)", r.KernelName, r.KernelDisplayName)
	}
	if len(r.PromptNumbers) != 3 {
		t.Errorf("prompt numbers %v, want 3 executed code cells", r.PromptNumbers)
	}
	if len(r.Errors) != 0 {
		t.Errorf("error outputs on the page: %q", r.Errors)
	}
	// The table: headers and cells, numbers included.
	for _, h := range []string{"model", "accuracy", "epochs"} {
		if !containsPrefix(r.TableHeaders, h) {
			t.Errorf("table headers %q lack %q", r.TableHeaders, h)
		}
	}
	for _, c := range []string{"gopher-net", "baseline", "0.9731", "12", "3"} {
		if !contains(r.TableCells, c) {
			t.Errorf("table cells %q lack %q", r.TableCells, c)
		}
	}
	// The chart: a rendered SVG with its title, axis labels and drawn lines.
	var chart bool
	for _, s := range r.SVGs {
		if strings.Contains(s.Text, "training loss") && strings.Contains(s.Text, "epoch") && s.Paths > 0 && s.Width > 100 && s.Height > 100 {
			chart = true
		}
	}
	if !chart {
		t.Errorf("no rendered SVG chart titled \"training loss\" with axes and lines: %+v", r.SVGs)
	}
	// The progress bar: one bar, finished, replaced in place (not 40 bars).
	if len(r.Progress) != 1 {
		t.Fatalf("%d progress bars on the page, want exactly 1 (updated in place): %+v", len(r.Progress), r.Progress)
	}
	if p := r.Progress[0]; p.State != "done" || p.Value != "40" || p.Total != "40" {
		t.Errorf("progress bar = %+v, want state done at 40/40", p)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func containsPrefix(list []string, s string) bool {
	for _, v := range list {
		if strings.HasPrefix(v, s) {
			return true
		}
	}
	return false
}

// startNotebookServer runs Debian's jupyter-notebook on a free loopback port
// with a random token, serving dir, and returns its base URL and token.
func startNotebookServer(t *testing.T, dir string) (base, token string) {
	t.Helper()
	var tok [16]byte
	rand.Read(tok[:])
	token = hex.EncodeToString(tok[:])
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	args := []string{"notebook", "--no-browser", "--ip=127.0.0.1", fmt.Sprintf("--port=%d", port), "--port-retries=0",
		"--NotebookApp.token=" + token, "--NotebookApp.password=", "--notebook-dir=" + dir}
	if os.Geteuid() == 0 {
		args = append(args, "--allow-root")
	}
	cmd := exec.Command("jupyter", args...)
	logBuf := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logBuf, logBuf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// SIGTERM the server's process group: the server and the kernels it started.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("notebook server log:\n%s", logBuf.String())
		}
	})
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/api/status?token=" + token)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, token
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("jupyter notebook did not answer on %s within 60 s (%v)\n%s", base, err, logBuf.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestNbconvertHTMLDisplay(t *testing.T) {
	needJupyter(t, "nbconvert")
	out, log, err := nbconvert(t, "browser.ipynb", "--to", "html")
	if err != nil || out == "" {
		t.Fatalf("jupyter nbconvert --execute --to html failed: %v\n%s", err, log)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	html := string(data)
	for _, want := range []string{"gopher-net", "0.9731", "<svg", "training loss", `class="gopherlab-progress" data-state="done"`} {
		if !strings.Contains(html, want) {
			t.Errorf("nbconvert HTML lacks %q", want)
		}
	}
	if n := strings.Count(html, `class="gopherlab-progress"`); n != 1 {
		t.Errorf("nbconvert HTML has %d progress bars, want 1 (updated in place)", n)
	}
}
