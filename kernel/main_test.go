package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopherlab/gopherlab/kernel/client"
	"github.com/gopherlab/gopherlab/kernel/notebook"
	"github.com/gopherlab/gopherlab/kernel/wire"
)

// binary is the gopherlab executable built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gopherlab-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gopherlab")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building gopherlab: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(binary, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "gopherlab ") || !strings.Contains(string(out), "go1.") {
		t.Fatalf("version output %q", out)
	}
	if err := exec.Command(binary, "frobnicate").Run(); err == nil {
		t.Fatal("unknown command exited 0")
	}
}

type kernelProc struct {
	cmd  *exec.Cmd
	ci   *wire.ConnectionInfo
	logs *tailBuffer // safe to read while the process writes
	done chan error
}

// launch starts "gopherlab kernel" as Jupyter would, with its history
// under dataHome.
func launch(t *testing.T, dataHome string) (*kernelProc, *client.Client) {
	t.Helper()
	ci, err := wire.NewTCPConnectionInfo("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	conn := filepath.Join(t.TempDir(), "kernel-test.json")
	if err := ci.WriteFile(conn); err != nil {
		t.Fatal(err)
	}
	k := &kernelProc{ci: ci, logs: &tailBuffer{max: 64 << 10}, done: make(chan error, 1)}
	k.cmd = exec.Command(binary, "kernel", conn)
	k.cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+dataHome)
	k.cmd.Stderr = k.logs
	if err := k.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { k.done <- k.cmd.Wait() }()
	t.Cleanup(func() {
		k.cmd.Process.Kill()
	})
	ctx := testCtx(t, 30*time.Second)
	c, err := client.Dial(ctx, ci, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.WaitReady(ctx); err != nil {
		t.Fatalf("%v\nkernel log:\n%s", err, k.logs)
	}
	return k, c
}

func resultText(t *testing.T, r *client.ExecuteResult) string {
	t.Helper()
	for _, o := range r.Outputs {
		if o.Type == "execute_result" {
			s, _ := o.Data["text/plain"].(string)
			return s
		}
	}
	t.Fatalf("no execute_result in %+v (status %s %s %s)", r.Outputs, r.Status, r.EName, r.EValue)
	return ""
}

func TestKernelProcessSurvivesSIGINTAndRestarts(t *testing.T) {
	data := t.TempDir()
	k, c := launch(t, data)
	ctx := testCtx(t, 60*time.Second)
	ki, err := c.KernelInfo(ctx)
	if err != nil || ki.Implementation != "gopherlab" || ki.Status != "ok" {
		t.Fatalf("kernel_info %+v %v", ki, err)
	}
	r, err := c.Execute(ctx, "n := 41\nn + 1", client.ExecuteOptions{})
	if err != nil || resultText(t, r) != "42" {
		t.Fatalf("execute: %v", err)
	}
	// SIGINT while idle must not kill the kernel (Jupyter may send it).
	if err := k.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if r, err := c.Execute(ctx, "n", client.ExecuteOptions{}); err != nil || resultText(t, r) != "41" {
		t.Fatalf("after SIGINT: %v", err)
	}
	// A long cell is interrupted by SIGINT; state survives.
	m, err := c.Send(wire.Shell, "execute_request", map[string]any{"code": "for i := 0; ; i++ { n = 41 }", "store_history": true})
	if err != nil {
		t.Fatal(err)
	}
	// Keep sending SIGINT until the cell (which may not have started yet
	// on a loaded machine) is interrupted.
	var reply *wire.Message
	for deadline := time.Now().Add(20 * time.Second); reply == nil; {
		time.Sleep(200 * time.Millisecond)
		k.cmd.Process.Signal(syscall.SIGINT)
		wait, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		reply, _ = c.Reply(wait, m.Header.MsgID)
		cancel()
		if reply == nil && time.Now().After(deadline) {
			t.Fatalf("no reply after SIGINT during a long cell\n%s", k.logs)
		}
	}
	var rc map[string]any
	json.Unmarshal(reply.Content, &rc)
	if rc["status"] != "error" {
		t.Fatalf("interrupted cell reply %v", rc)
	}
	c.Forget(m.Header.MsgID)
	if r, err := c.Execute(ctx, "n + 1", client.ExecuteOptions{}); err != nil || resultText(t, r) != "42" {
		t.Fatalf("state after interrupt: %v", err)
	}
	// shutdown with restart: the process exits cleanly; the new kernel
	// sees the old session's history.
	if err := c.Shutdown(ctx, true); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-k.done:
		if err != nil {
			t.Fatalf("kernel exit: %v\n%s", err, k.logs)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("kernel did not exit after shutdown_request")
	}
	c.Close()
	k2, c2 := launch(t, data)
	reply, _, err = c2.Request(ctx, wire.Shell, "history_request", map[string]any{"hist_access_type": "tail", "n": 100, "output": false, "raw": true})
	if err != nil {
		t.Fatal(err)
	}
	var hist struct {
		History [][]any `json:"history"`
	}
	json.Unmarshal(reply.Content, &hist)
	if len(hist.History) < 3 || hist.History[0][0] != 1.0 || hist.History[0][2] != "n := 41\nn + 1" {
		t.Fatalf("history after restart %v", hist.History)
	}
	if _, err := os.Stat(filepath.Join(data, "gopherlab", "history.jsonl")); err != nil {
		t.Fatal(err)
	}
	c2.Shutdown(ctx, false)
	if err := <-k2.done; err != nil {
		t.Fatalf("second kernel exit: %v", err)
	}
}

func writeNotebook(t *testing.T, dir, name string, sources ...string) string {
	t.Helper()
	nb := notebook.New()
	for _, s := range sources {
		typ := "code"
		if strings.HasPrefix(s, "# ") {
			typ = "markdown"
		}
		nb.Cells = append(nb.Cells, notebook.NewCell(typ, s))
	}
	path := filepath.Join(dir, name)
	if err := nb.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCmd(t *testing.T, dir string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"run"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

func TestRunWritesOutputsAndNamesFailingCell(t *testing.T) {
	dir := t.TempDir()
	src := writeNotebook(t, dir, "tour.ipynb",
		"x := 20",
		"# A heading",
		"x*2 + 2",
		"undefinedThing + 1",
		"x + 1",
	)
	code, stderr := runCmd(t, dir, "tour.ipynb")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "tour.ipynb") || !strings.Contains(stderr, "cell index 3") || !strings.Contains(stderr, "undefinedThing") {
		t.Fatalf("stderr does not name the failing notebook and cell:\n%s", stderr)
	}
	out, err := notebook.ReadFile(filepath.Join(dir, "tour.nbconvert.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	cells := out.Cells
	if cells[0].ExecutionCount == nil || *cells[0].ExecutionCount != 1 || *cells[2].ExecutionCount != 2 {
		t.Fatalf("execution counts %v %v", cells[0].ExecutionCount, cells[2].ExecutionCount)
	}
	if res := cells[2].Outputs; len(res) != 1 || res[0].Type() != "execute_result" || res[0]["data"].(map[string]any)["text/plain"] != "42" || fmt.Sprint(res[0]["execution_count"]) != "2" {
		t.Fatalf("result outputs %v", res)
	}
	if errs := cells[3].Outputs; len(errs) != 1 || errs[0].Type() != "error" {
		t.Fatalf("error outputs %v", errs)
	}
	if cells[4].ExecutionCount != nil || len(cells[4].Outputs) != 0 {
		t.Fatalf("cell after the error ran: %v", cells[4].Outputs)
	}
	if ks, _ := out.Metadata["kernelspec"].(map[string]any); ks["name"] != "gopherlab" {
		t.Errorf("kernelspec %v", out.Metadata["kernelspec"])
	}
	if li, _ := out.Metadata["language_info"].(map[string]any); li["name"] != "go" || li["file_extension"] != ".go" {
		t.Errorf("language_info %v", out.Metadata["language_info"])
	}
	validateWithNbformat(t, filepath.Join(dir, "tour.nbconvert.ipynb"))
	// The input is untouched.
	in, _ := notebook.ReadFile(src)
	if in.Cells[0].ExecutionCount != nil {
		t.Fatal("input notebook modified")
	}

	// --allow-errors runs every cell and exits 0.
	code, stderr = runCmd(t, dir, "--allow-errors", "-o", filepath.Join(dir, "all.ipynb"), "tour.ipynb")
	if code != 0 {
		t.Fatalf("--allow-errors exit %d\n%s", code, stderr)
	}
	all, err := notebook.ReadFile(filepath.Join(dir, "all.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	if last := all.Cells[4].Outputs; len(last) != 1 || last[0]["data"].(map[string]any)["text/plain"] != "21" {
		t.Fatalf("last cell outputs %v", last)
	}
}

func TestRunOutputLocations(t *testing.T) {
	dir := t.TempDir()
	writeNotebook(t, dir, "a.ipynb", "1 + 1")
	writeNotebook(t, dir, "b.ipynb", "2 + 2")
	outDir := filepath.Join(dir, "out")
	if code, stderr := runCmd(t, dir, "a.ipynb", "b.ipynb", "-o", outDir); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for name, want := range map[string]string{"a.ipynb": "2", "b.ipynb": "4"} {
		nb, err := notebook.ReadFile(filepath.Join(outDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := nb.Cells[0].Outputs[0]["data"].(map[string]any)["text/plain"]; got != want {
			t.Errorf("%s: %v", name, got)
		}
	}
	if code, stderr := runCmd(t, dir, "--inplace", "a.ipynb"); code != 0 {
		t.Fatalf("inplace exit %d\n%s", code, stderr)
	}
	nb, _ := notebook.ReadFile(filepath.Join(dir, "a.ipynb"))
	if nb.Cells[0].ExecutionCount == nil {
		t.Fatal("--inplace did not write the input")
	}
	// A broken notebook is reported by name and nothing is written.
	os.WriteFile(filepath.Join(dir, "bad.ipynb"), []byte(`{"nbformat": 4, "cells": "x"}`), 0o644)
	code, stderr := runCmd(t, dir, "bad.ipynb")
	if code == 0 || !strings.Contains(stderr, "bad.ipynb") {
		t.Fatalf("bad notebook: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.nbconvert.ipynb")); err == nil {
		t.Fatal("output written for an unreadable notebook")
	}
}

func TestRunReportsKernelDeath(t *testing.T) {
	dir := t.TempDir()
	writeNotebook(t, dir, "dies.ipynb", "1 + 1", "for {}", "2 + 2")
	cmd := exec.Command(binary, "run", "dies.ipynb")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill the kernel (the run process's child) while the second cell runs.
	// The child is listed under the thread that forked it, which need not
	// be the main thread: look at every thread of the run process. The Go
	// runtime may fork a short-lived child of its own (a pidfd probe) before
	// the kernel: only a child whose command line is "... kernel ..." counts.
	tasks := fmt.Sprintf("/proc/%d/task/*/children", cmd.Process.Pid)
	var kernelPID int
	for deadline := time.Now().Add(20 * time.Second); kernelPID == 0 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		files, _ := filepath.Glob(tasks)
		for _, f := range files {
			b, _ := os.ReadFile(f)
			for _, field := range strings.Fields(string(b)) {
				pid, _ := strconv.Atoi(field)
				argv, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
				if args := strings.Split(string(argv), "\x00"); pid > 0 && len(args) > 1 && args[1] == "kernel" {
					kernelPID = pid
				}
			}
		}
	}
	if kernelPID == 0 {
		cmd.Process.Kill()
		t.Fatal("kernel process not found")
	}
	time.Sleep(1500 * time.Millisecond)
	syscall.Kill(kernelPID, syscall.SIGKILL)
	err := cmd.Wait()
	out := stderr.String()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(out, "kernel died") {
		t.Fatalf("err %v\n%s", err, out)
	}
	nb, err := notebook.ReadFile(filepath.Join(dir, "dies.nbconvert.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	// The cell that was running (normally "for {}", index 1) holds the
	// error and is the one named; later cells did not run.
	failed := -1
	for i, c := range nb.Cells {
		if len(c.Outputs) == 1 && c.Outputs[0].Type() == "error" {
			failed = i
		}
	}
	if failed < 0 || !strings.Contains(out, fmt.Sprintf("cell index %d", failed)) || nb.Cells[2].ExecutionCount != nil {
		t.Fatalf("failed cell %d; outputs %v / %v / %v\n%s", failed, nb.Cells[0].Outputs, nb.Cells[1].Outputs, nb.Cells[2].Outputs, out)
	}
}

func TestRunTimeoutInterruptsCell(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a cell until its timeout")
	}
	dir := t.TempDir()
	writeNotebook(t, dir, "slow.ipynb", "for {}", "1")
	start := time.Now()
	code, stderr := runCmd(t, dir, "--timeout", "500ms", "slow.ipynb")
	if code != 1 || !strings.Contains(stderr, "timed out") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if el := time.Since(start); el > 20*time.Second {
		t.Fatalf("took %v", el)
	}
}

// validateWithNbformat checks path with Jupyter's own nbformat validator
// (Debian python3-nbformat).
func validateWithNbformat(t *testing.T, path string) {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import nbformat").Run() != nil {
			continue
		}
		out, err := exec.Command(py, "-c", "import sys, nbformat; nb = nbformat.read(sys.argv[1], as_version=nbformat.NO_CONVERT); nbformat.validate(nb); print(nb.nbformat, nb.nbformat_minor)", path).CombinedOutput()
		if err != nil {
			t.Fatalf("nbformat rejects %s: %v\n%s", path, err, out)
		}
		if strings.TrimSpace(string(out)) != "4 5" {
			t.Fatalf("nbformat version %q, want 4 5", out)
		}
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("python3 with nbformat (apt install python3-nbformat) is required in CI")
	}
	t.Log("skipping nbformat validation: no python3 with nbformat (apt install python3-nbformat)")
}

func TestKernelRefusesBadConnectionFiles(t *testing.T) {
	dir := t.TempDir()
	md5 := filepath.Join(dir, "md5.json")
	os.WriteFile(md5, []byte(`{"transport":"tcp","ip":"127.0.0.1","shell_port":50001,"iopub_port":50002,"stdin_port":50003,"control_port":50004,"hb_port":50005,"key":"k","signature_scheme":"hmac-md5"}`), 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"kernel", filepath.Join(dir, "nope.json")}, "nope.json"},
		{"unsupported scheme", []string{"kernel", md5}, `unsupported scheme "hmac-md5"`},
		{"no argument", []string{"kernel"}, "usage: gopherlab kernel CONNECTION_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := exec.Command(binary, tt.args...)
			cmd.Stderr = &stderr
			err := cmd.Run()
			if err == nil || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("err %v, stderr %q, want %q", err, stderr.String(), tt.want)
			}
		})
	}
}

func TestKernelExitsWhenParentDies(t *testing.T) {
	ci, err := wire.NewTCPConnectionInfo("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	conn := filepath.Join(t.TempDir(), "kernel.json")
	ci.WriteFile(conn)
	// sh starts the kernel in the background, prints its pid and exits
	// after a moment, orphaning the kernel.
	out, err := exec.Command("sh", "-c", `JPY_PARENT_PID=$$ "$0" kernel "$1" >/dev/null 2>&1 & echo $!; sleep 1`, binary, conn).Output()
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscan(string(out), &pid); err != nil {
		t.Fatalf("pid %q: %v", out, err)
	}
	exited := func() bool {
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		return err != nil || strings.Contains(string(st), "State:\tZ")
	}
	for deadline := time.Now().Add(10 * time.Second); !exited(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatal("orphaned kernel still running 10s after its parent exited")
		}
	}
}
