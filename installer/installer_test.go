package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// needTool fails the test under CI and skips it elsewhere when an external
// tool the test needs is missing.
func needTool(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required in CI: %v", what, err)
	}
	t.Skipf("%s not available: %v", what, err)
}

func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestResolveDirs(t *testing.T) {
	src, err := findModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name              string
		env               map[string]string
		prefix, home      string
		wantData, wantBin string
	}{
		{
			name:     "home only",
			env:      map[string]string{"HOME": "/h"},
			wantData: "/h/.local/share/jupyter",
			wantBin:  "/h/.local/share/gopherlab/bin/gopherlab",
		},
		{
			name:     "XDG_DATA_HOME",
			env:      map[string]string{"HOME": "/h", "XDG_DATA_HOME": "/x"},
			wantData: "/x/jupyter",
			wantBin:  "/x/gopherlab/bin/gopherlab",
		},
		{
			name:     "JUPYTER_DATA_DIR wins for the kernelspec",
			env:      map[string]string{"HOME": "/h", "XDG_DATA_HOME": "/x", "JUPYTER_DATA_DIR": "/j"},
			wantData: "/j",
			wantBin:  "/x/gopherlab/bin/gopherlab",
		},
		{
			name:     "prefix",
			env:      map[string]string{"HOME": "/h", "JUPYTER_DATA_DIR": "/j"},
			prefix:   "/opt/p",
			wantData: "/opt/p/share/jupyter",
			wantBin:  "/opt/p/share/gopherlab/bin/gopherlab",
		},
		{
			name:     "prefix with home",
			env:      map[string]string{"HOME": "/h"},
			prefix:   "/opt/p",
			home:     "/g",
			wantData: "/opt/p/share/jupyter",
			wantBin:  "/g/bin/gopherlab",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config{home: tt.home, src: src}
			if err := resolve(context.Background(), &cfg, tt.prefix, false, envFunc(tt.env)); err != nil {
				t.Fatal(err)
			}
			if cfg.dataDir != tt.wantData {
				t.Errorf("data dir = %s, want %s", cfg.dataDir, tt.wantData)
			}
			if cfg.binPath() != tt.wantBin {
				t.Errorf("binary = %s, want %s", cfg.binPath(), tt.wantBin)
			}
			if want := filepath.Join(tt.wantData, "kernels", "gopherlab"); cfg.specDir() != want {
				t.Errorf("kernelspec dir = %s, want %s", cfg.specDir(), want)
			}
		})
	}
}

func TestResolveSysPrefix(t *testing.T) {
	python := defaultPython()
	_, err := exec.LookPath(python)
	needTool(t, "python3", err)
	out, err := exec.Command(python, "-c", "import sys; print(sys.prefix)").Output()
	if err != nil {
		t.Fatal(err)
	}
	prefix := strings.TrimSpace(string(out))
	cfg := config{python: python, src: "."}
	if err := resolve(context.Background(), &cfg, "", true, envFunc(map[string]string{"HOME": "/h"})); err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(prefix, "share", "jupyter"); cfg.dataDir != want {
		t.Errorf("--sys-prefix data dir = %s, want %s", cfg.dataDir, want)
	}
	if err := resolve(context.Background(), &config{python: python, src: "."}, "/p", true, os.Getenv); err == nil {
		t.Error("--prefix with --sys-prefix: no error")
	}
	bad := config{python: filepath.Join(t.TempDir(), "no-such-python"), src: "."}
	if err := resolve(context.Background(), &bad, "", true, os.Getenv); err == nil || !strings.Contains(err.Error(), "sys.prefix") {
		t.Errorf("missing python: err = %v, want one naming sys.prefix", err)
	}
}

func TestFindModuleRoot(t *testing.T) {
	root, err := findModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "kernel.json")); err != nil {
		t.Errorf("module root %s has no kernel.json: %v", root, err)
	}
	if _, err := findModuleRoot(t.TempDir()); err == nil || !strings.Contains(err.Error(), "--src") {
		t.Errorf("outside the module: err = %v, want a hint about --src", err)
	}
}

func TestRenderKernelSpec(t *testing.T) {
	root, err := findModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(root, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := renderKernelSpec(tmpl, "/opt/gl/bin/gopherlab")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("installed kernel.json is not JSON: %v\n%s", err, out)
	}
	argv, _ := got["argv"].([]any)
	if len(argv) != 3 || argv[0] != "/opt/gl/bin/gopherlab" || argv[1] != "kernel" || argv[2] != "{connection_file}" {
		t.Errorf("argv = %v, want [/opt/gl/bin/gopherlab kernel {connection_file}]", argv)
	}
	for k, want := range map[string]string{"display_name": "Go (gopherlab)", "language": "go", "interrupt_mode": "message"} {
		if got[k] != want {
			t.Errorf("%s = %v, want %q", k, got[k], want)
		}
	}
	if _, ok := got["metadata"].(map[string]any); !ok {
		t.Errorf("metadata missing: %s", out)
	}

	bad := []struct{ name, tmpl, bin, wantErr string }{
		{"misspelt key", `{"argv":["gopherlab"],"display_nam":"x","language":"go"}`, "/b", "display_nam"},
		{"empty argv", `{"argv":[],"display_name":"x","language":"go"}`, "/b", "argv is empty"},
		{"not JSON", `{"argv":`, "/b", "kernel.json template"},
		{"relative binary", `{"argv":["gopherlab"],"display_name":"x","language":"go"}`, "bin/gopherlab", "not absolute"},
	}
	for _, b := range bad {
		t.Run(b.name, func(t *testing.T) {
			_, err := renderKernelSpec([]byte(b.tmpl), b.bin)
			if err == nil || !strings.Contains(err.Error(), b.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, b.wantErr)
			}
		})
	}
}

func TestLogos(t *testing.T) {
	for _, l := range []struct {
		data []byte
		size int
	}{{logo32, 32}, {logo64, 64}} {
		img, err := png.Decode(bytes.NewReader(l.data))
		if err != nil {
			t.Fatalf("logo %dx%d: %v", l.size, l.size, err)
		}
		if b := img.Bounds(); b.Dx() != l.size || b.Dy() != l.size {
			t.Errorf("logo is %v, want %dx%d", b, l.size, l.size)
		}
		// The centre is part of the drawing, the corners are transparent.
		if _, _, _, a := img.At(l.size/2, l.size/2).RGBA(); a == 0 {
			t.Errorf("logo %d: centre pixel is transparent", l.size)
		}
		if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
			t.Errorf("logo %d: corner pixel is opaque", l.size)
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "f.json")
	changed, err := writeFileAtomic(p, []byte("one"), 0o644)
	if err != nil || !changed {
		t.Fatalf("first write: changed=%v err=%v", changed, err)
	}
	changed, err = writeFileAtomic(p, []byte("one"), 0o644)
	if err != nil || changed {
		t.Fatalf("same content: changed=%v err=%v, want unchanged", changed, err)
	}
	changed, err = writeFileAtomic(p, []byte("one"), 0o600)
	if err != nil || !changed {
		t.Fatalf("new mode: changed=%v err=%v, want changed", changed, err)
	}
	// A failing writer leaves the old file and no temp file behind.
	err = writeAtomic(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("half"))
		return errors.New("disk on fire")
	})
	if err == nil {
		t.Fatal("failing fill: no error")
	}
	if b, _ := os.ReadFile(p); string(b) != "one" {
		t.Errorf("after a failed write the file holds %q, want %q", b, "one")
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Errorf("temp files left behind: %v", ents)
	}
}

// makeTarGz builds a gzipped tarball with the given members.
func makeTarGz(t *testing.T, path string, members map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, data := range members {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	tw.Close()
	zw.Close()
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestORTRefusesUnverifiedArtifacts(t *testing.T) {
	if runtime.GOOS != "linux" || ortLibs[runtime.GOARCH].member == "" {
		t.Skip("ONNX Runtime install is linux/amd64 and linux/arm64 only")
	}
	member := ortLibs[runtime.GOARCH].member
	dir := t.TempDir()
	tarball := filepath.Join(dir, ortTarballName())
	makeTarGz(t, tarball, map[string][]byte{member: []byte("\x7fELF not really a library")})
	libDir := filepath.Join(dir, "lib")

	// The whole tarball's digest is wrong.
	err := installORT(context.Background(), libDir, tarball, &reporter{w: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "sha256") || !strings.Contains(err.Error(), tarball) {
		t.Errorf("tampered tarball: err = %v, want a sha256 mismatch naming %s", err, tarball)
	}
	// The member's digest is wrong (checked even past the tarball check).
	dest := filepath.Join(libDir, ORTLibName)
	err = extractORT(tarball, member, ortLibs[runtime.GOARCH].sha256, dest)
	if err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("tampered library: err = %v, want a sha256 mismatch", err)
	}
	// A tarball without the member.
	err = extractORT(tarball, "package/bin/nothing.so", "", dest)
	if err == nil || !strings.Contains(err.Error(), "no member") {
		t.Errorf("missing member: err = %v", err)
	}
	ents, _ := os.ReadDir(libDir)
	if len(ents) != 0 {
		t.Errorf("refused installs left files in %s: %v", libDir, ents)
	}
}

func TestORTCandidates(t *testing.T) {
	exe := func() (string, error) { return "/opt/gl/bin/gopherlab", nil }
	got := ortCandidates(envFunc(map[string]string{"HOME": "/h"}), exe)
	want := []string{
		"/opt/gl/lib/" + ORTLibName,
		"/h/.local/share/gopherlab/lib/" + ORTLibName,
		"/usr/local/lib/" + ORTLibName,
		"/usr/lib/" + ORTLibName,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("candidates =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	got = ortCandidates(envFunc(map[string]string{"HOME": "/h", "GOPHERLAB_ORT_LIB": "/x/libonnxruntime.so"}), exe)
	if got[0] != "/x/libonnxruntime.so" {
		t.Errorf("override not first: %v", got)
	}
}

// cachedORTTarball returns the pinned onnxruntime-node tarball, fetched with
// the installer's own npm pack once and kept in the user cache dir.
func cachedORTTarball(t *testing.T) string {
	t.Helper()
	_, err := exec.LookPath("npm")
	needTool(t, "npm", err)
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "gopherlab-test")
	p := filepath.Join(dir, ortTarballName())
	if verifyTarball(p) == nil {
		return p
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(dir, "pack-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	got, err := npmPack(ctx, tmp)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyTarball(got); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(got, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestInstallIdempotentUninstall installs into temporary directories the way
// a user would, checks that Jupyter's own kernelspec lookup finds the
// kernel, reruns the install (nothing may change), and uninstalls.
func TestInstallIdempotentUninstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the kernel and installs ONNX Runtime; skipped with -short")
	}
	src, err := findModuleRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(filepath.Join(src, "kernel", "*.go")); len(m) == 0 {
		t.Skip("the kernel binary (./kernel package main) is not written yet")
	}
	_, err = exec.LookPath("go")
	needTool(t, "go", err)
	tarball := cachedORTTarball(t)

	tmp := t.TempDir()
	cfg := config{src: src, home: filepath.Join(tmp, "home"), dataDir: filepath.Join(tmp, "jupyter"), ortTarball: tarball}
	ctx := context.Background()
	install := func() string {
		var out bytes.Buffer
		c := cfg
		c.stdout, c.stderr = &out, &out
		if err := run(ctx, c); err != nil {
			t.Fatalf("install: %v\n%s", err, out.String())
		}
		return out.String()
	}

	first := install()
	for _, want := range []string{"built and installed gopherlab binary", "installed ONNX Runtime", "installed kernelspec file", "jupyter notebook"} {
		if !strings.Contains(first, want) {
			t.Errorf("first install output lacks %q:\n%s", want, first)
		}
	}
	// The binary runs.
	out, err := exec.Command(cfg.binPath(), "version").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) == 0 {
		t.Errorf("%s version: %v %q", cfg.binPath(), err, out)
	}
	// The library is the pinned one, with its unversioned link.
	lib := filepath.Join(cfg.libDir(), ORTLibName)
	if sum, err := fileSHA256(lib); err != nil || sum != ortLibs[runtime.GOARCH].sha256 {
		t.Errorf("library %s: sha256 %s, err %v", lib, sum, err)
	}
	if target, err := os.Readlink(filepath.Join(cfg.libDir(), ortDevLinkName)); err != nil || target != ORTLibName {
		t.Errorf("link %s -> %q, %v", ortDevLinkName, target, err)
	}
	checkORTLoads(t, lib)
	// The binary finds the library relative to itself.
	if c := ortCandidates(envFunc(nil), func() (string, error) { return cfg.binPath(), nil }); c[0] != lib {
		t.Errorf("lookup from the installed binary tries %s first, want %s", c[0], lib)
	}

	// Jupyter's own lookup finds the kernelspec.
	checkJupyterFindsKernel(t, cfg)
	checkRunNotebooks(t, cfg)

	stamp := func() map[string]time.Time {
		m := map[string]time.Time{}
		for _, p := range []string{cfg.binPath(), lib, filepath.Join(cfg.specDir(), "kernel.json"), filepath.Join(cfg.specDir(), "logo-64x64.png")} {
			st, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			m[p] = st.ModTime()
		}
		return m
	}
	before := stamp()
	second := install()
	if !strings.Contains(second, "Nothing new") || strings.Contains(second, "  + ") {
		t.Errorf("second install changed something:\n%s", second)
	}
	for p, mt := range stamp() {
		if !mt.Equal(before[p]) {
			t.Errorf("second install rewrote %s", p)
		}
	}

	var rm bytes.Buffer
	c := cfg
	c.uninstall, c.stdout = true, &rm
	if err := run(ctx, c); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{cfg.specDir(), cfg.binPath(), lib, cfg.home} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("after uninstall %s still exists\n%s", p, rm.String())
		}
	}
	rm.Reset()
	if err := run(ctx, c); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rm.String(), "Nothing to remove") {
		t.Errorf("second uninstall: %s", rm.String())
	}
}

// checkJupyterFindsKernel asks Debian's jupyter_client for the kernelspec.
func checkJupyterFindsKernel(t *testing.T, cfg config) {
	t.Helper()
	python := "/usr/bin/python3"
	err := exec.Command(python, "-c", "import jupyter_client").Run()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("python3-jupyter-client is required in CI: %v", err)
		}
		t.Logf("skipping the jupyter_client check: %v", err)
		return
	}
	cmd := exec.Command(python, "-c", `
import json
from jupyter_client.kernelspec import KernelSpecManager
s = KernelSpecManager().get_kernel_spec("gopherlab")
print(json.dumps({"argv": s.argv, "display_name": s.display_name, "language": s.language, "interrupt_mode": s.interrupt_mode, "dir": s.resource_dir}))
`)
	cmd.Env = append(os.Environ(), "JUPYTER_DATA_DIR="+cfg.dataDir, "JUPYTER_PATH=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("jupyter_client cannot load the kernelspec: %v\n%s", err, out)
	}
	var raw map[string]any
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if raw["display_name"] != "Go (gopherlab)" || raw["language"] != "go" || raw["interrupt_mode"] != "message" {
		t.Errorf("jupyter_client sees %s", out)
	}
	if argv, _ := raw["argv"].([]any); len(argv) == 0 || argv[0] != cfg.binPath() {
		t.Errorf("jupyter_client argv = %v, want the installed binary %s first", raw["argv"], cfg.binPath())
	}
	if raw["dir"] != cfg.specDir() {
		t.Errorf("jupyter_client resource dir = %v, want %s", raw["dir"], cfg.specDir())
	}
}

// checkORTLoads loads the installed library with the system's dynamic loader
// (through python's ctypes) and asks ONNX Runtime for its version.
func checkORTLoads(t *testing.T, lib string) {
	t.Helper()
	python := defaultPython()
	if _, err := exec.LookPath(python); err != nil {
		t.Logf("no python to dlopen %s: %v", lib, err)
		return
	}
	out, err := exec.Command(python, "-c", `
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.OrtGetApiBase.restype = ctypes.POINTER(ctypes.c_void_p * 2)
base = lib.OrtGetApiBase().contents
print(ctypes.CFUNCTYPE(ctypes.c_char_p)(base[1])().decode())
`, lib).CombinedOutput()
	if err != nil {
		t.Fatalf("loading %s: %v\n%s", lib, err, out)
	}
	if got := strings.TrimSpace(string(out)); got != ortVersion {
		t.Errorf("ONNX Runtime reports version %q, want %s", got, ortVersion)
	}
}

func TestMissingDebianPackages(t *testing.T) {
	_, err := exec.LookPath("dpkg-query")
	needTool(t, "dpkg-query (Debian)", err)
	got := missingDebianPackages(context.Background(), []string{"coreutils", "gopherlab-no-such-package"})
	if len(got) != 1 || got[0] != "gopherlab-no-such-package" {
		t.Errorf("missing = %v, want [gopherlab-no-such-package]", got)
	}
}

// checkRunNotebooks runs --run-notebooks over testdata/hello.ipynb with the
// installed binary and checks the executed copy.
func checkRunNotebooks(t *testing.T, cfg config) {
	t.Helper()
	var out bytes.Buffer
	c := cfg
	c.notebooksDir, _ = filepath.Abs("testdata")
	c.outDir = filepath.Join(t.TempDir(), "executed")
	c.stdout, c.stderr = &out, &out
	if err := runNotebooks(context.Background(), c, &reporter{w: io.Discard}); err != nil {
		t.Fatalf("--run-notebooks: %v\n%s", err, out.String())
	}
	data, err := os.ReadFile(filepath.Join(c.outDir, "hello.ipynb"))
	if err != nil {
		t.Fatalf("no executed copy: %v\n%s", err, out.String())
	}
	var nb struct {
		Cells []struct {
			CellType       string           `json:"cell_type"`
			ExecutionCount *int             `json:"execution_count"`
			Outputs        []map[string]any `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(data, &nb); err != nil {
		t.Fatal(err)
	}
	var texts []string
	counts := 0
	for _, cell := range nb.Cells {
		if cell.CellType != "code" {
			continue
		}
		if cell.ExecutionCount != nil {
			counts++
		}
		for _, o := range cell.Outputs {
			b, _ := json.Marshal(o)
			texts = append(texts, string(b))
		}
	}
	all := strings.Join(texts, "\n")
	if counts != 3 || !strings.Contains(all, "hello from nbconvert") || !strings.Contains(all, "gogogo") {
		t.Errorf("executed notebook: %d execution counts (want 3), outputs:\n%s", counts, all)
	}
}
