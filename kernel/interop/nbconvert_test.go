package interop

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// notebook is the part of an .ipynb file the tests look at.
type notebook struct {
	NBFormat      int            `json:"nbformat"`
	NBFormatMinor int            `json:"nbformat_minor"`
	Metadata      map[string]any `json:"metadata"`
	Cells         []struct {
		CellType       string           `json:"cell_type"`
		ID             string           `json:"id"`
		Source         any              `json:"source"`
		ExecutionCount *int             `json:"execution_count"`
		Outputs        []map[string]any `json:"outputs"`
	} `json:"cells"`
}

func readNotebook(t *testing.T, path string) notebook {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var nb notebook
	if err := json.Unmarshal(data, &nb); err != nil {
		t.Fatalf("%s is not a notebook: %v", path, err)
	}
	return nb
}

// text joins a notebook string field, which may be a string or a list of lines.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var b strings.Builder
		for _, l := range x {
			fmt.Fprint(&b, l)
		}
		return b.String()
	}
	return ""
}

// needJupyter checks for Debian's jupyter command with the given subcommand.
func needJupyter(t *testing.T, sub string) {
	t.Helper()
	needKernel(t)
	if out, err := exec.Command("jupyter", sub, "--version").CombinedOutput(); err != nil {
		missing(t, "jupyter "+sub+" (Debian jupyter-"+sub+")", fmt.Errorf("%v: %s", err, out))
	}
}

// nbconvert runs `jupyter nbconvert --execute` on a copy of a testdata notebook.
func nbconvert(t *testing.T, name string, args ...string) (outPath string, output []byte, err error) {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, name)
	if err := os.WriteFile(in, data, 0o644); err != nil {
		t.Fatal(err)
	}
	argv := append([]string{"nbconvert", "--execute", "--ExecutePreprocessor.timeout=120", "--output-dir", filepath.Join(dir, "out")}, args...)
	cmd := exec.Command("jupyter", append(argv, in)...)
	cmd.Dir = dir
	output, err = cmd.CombinedOutput()
	base := strings.TrimSuffix(name, ".ipynb")
	matches, _ := filepath.Glob(filepath.Join(dir, "out", base+".*"))
	if len(matches) == 1 {
		outPath = matches[0]
	}
	return outPath, output, err
}

func TestNbconvertExecute(t *testing.T) {
	needJupyter(t, "nbconvert")
	out, log, err := nbconvert(t, "small.ipynb", "--to", "notebook")
	if err != nil || out == "" {
		t.Fatalf("jupyter nbconvert --execute failed: %v\n%s", err, log)
	}
	nb := readNotebook(t, out)
	if nb.NBFormat != 4 || nb.NBFormatMinor < 4 {
		t.Errorf("nbformat %d.%d", nb.NBFormat, nb.NBFormatMinor)
	}
	li, _ := nb.Metadata["language_info"].(map[string]any)
	if li["name"] != "go" || li["file_extension"] != ".go" {
		t.Errorf("language_info written by nbconvert = %v", li)
	}
	type want struct {
		count        int
		stdout       string
		result       string
		outputsTotal int
	}
	wants := []want{
		{count: 1, stdout: "hello from nbconvert\n", outputsTotal: 1},
		{count: 2, result: "21", outputsTotal: 1},
		{count: 3, result: "gogogo", outputsTotal: 1},
	}
	var code []int
	for i, c := range nb.Cells {
		if c.CellType == "code" {
			code = append(code, i)
		}
	}
	if len(code) != len(wants) {
		t.Fatalf("%d code cells, want %d", len(code), len(wants))
	}
	for k, i := range code {
		c, w := nb.Cells[i], wants[k]
		if c.ExecutionCount == nil || *c.ExecutionCount != w.count {
			t.Errorf("cell %d execution_count = %v, want %d", i, c.ExecutionCount, w.count)
		}
		if len(c.Outputs) != w.outputsTotal {
			t.Errorf("cell %d has %d outputs, want %d: %v", i, len(c.Outputs), w.outputsTotal, c.Outputs)
			continue
		}
		o := c.Outputs[0]
		switch {
		case w.stdout != "":
			if o["output_type"] != "stream" || o["name"] != "stdout" || text(o["text"]) != w.stdout {
				t.Errorf("cell %d output = %v, want stdout %q", i, o, w.stdout)
			}
		case w.result != "":
			data, _ := o["data"].(map[string]any)
			if o["output_type"] != "execute_result" || text(data["text/plain"]) != w.result {
				t.Errorf("cell %d output = %v, want execute_result %q", i, o, w.result)
			}
			if o["execution_count"] != float64(w.count) {
				t.Errorf("cell %d execute_result count = %v, want %d", i, o["execution_count"], w.count)
			}
		}
	}
	// The executed notebook is valid nbformat (checked by Debian's nbformat).
	if err := exec.Command(debianPython, "-c", "import nbformat,sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))", out).Run(); err != nil {
		t.Errorf("nbformat rejects the executed notebook: %v", err)
	}
}

func TestNbconvertCellError(t *testing.T) {
	needJupyter(t, "nbconvert")
	_, log, err := nbconvert(t, "failing.ipynb", "--to", "notebook")
	if err == nil {
		t.Fatalf("nbconvert succeeded on a notebook whose cell fails:\n%s", log)
	}
	if !strings.Contains(string(log), "notDefinedAnywhere") {
		t.Errorf("nbconvert's error does not name the failing code:\n%s", log)
	}

	out, log, err := nbconvert(t, "failing.ipynb", "--to", "notebook", "--allow-errors")
	if err != nil {
		t.Fatalf("nbconvert --allow-errors: %v\n%s", err, log)
	}
	nb := readNotebook(t, out)
	var errs, after int
	for _, c := range nb.Cells {
		for _, o := range c.Outputs {
			if o["output_type"] == "error" {
				errs++
				if tb, ok := o["traceback"].([]any); !ok || len(tb) == 0 || o["ename"] == "" {
					t.Errorf("error output = %v, want ename and a traceback list", o)
				}
			}
			if o["output_type"] == "stream" && strings.Contains(text(o["text"]), "after the error") {
				after++
			}
		}
	}
	if errs != 1 || after != 1 {
		t.Errorf("with --allow-errors: %d error outputs (want 1), cell after the error printed %d times (want 1)", errs, after)
	}
}
