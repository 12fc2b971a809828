package display

import (
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files with the current output")

// message is one call a recorder received.
type message struct {
	Kind   string // "display", "update", "clear"
	ID     string
	Bundle MIMEBundle
	Wait   bool
}

// recorder is a Publisher that keeps every message, like the kernel's iopub
// publisher would send them.
type recorder struct {
	mu   sync.Mutex
	msgs []message
}

func (r *recorder) PublishDisplay(b MIMEBundle, id string, upd bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	kind := "display"
	if upd {
		kind = "update"
	}
	r.msgs = append(r.msgs, message{Kind: kind, ID: id, Bundle: b})
}

func (r *recorder) ClearOutput(wait bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, message{Kind: "clear", Wait: wait})
}

func (r *recorder) messages() []message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]message(nil), r.msgs...)
}

// usePublisher installs p for the duration of the test.
func usePublisher(t *testing.T, p Publisher) {
	t.Helper()
	old := SetPublisher(p)
	t.Cleanup(func() { SetPublisher(old) })
}

// bundleText is a readable dump of a bundle for golden files: one section
// per MIME type, strings verbatim, JSON values indented.
func bundleText(b MIMEBundle) string {
	var out strings.Builder
	dump := func(kind string, m map[string]any) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&out, "===== %s %s\n", kind, k)
			if s, ok := m[k].(string); ok {
				out.WriteString(s)
			} else {
				raw, err := json.MarshalIndent(m[k], "", "  ")
				if err != nil {
					raw = []byte("JSON ERROR: " + err.Error())
				}
				out.Write(raw)
			}
			out.WriteString("\n")
		}
	}
	dump("data", b.Data)
	dump("metadata", b.Metadata)
	return out.String()
}

// golden compares got with testdata/name.golden, rewriting it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./display -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file; got:\n%s\n(run go test ./display -update after checking the change)", path, firstDiff(string(want), got))
	}
}

// firstDiff shows the first differing line.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  want: %.300q\n  got:  %.300q", i+1, w, g)
		}
	}
	return "(no line differs)"
}

// checkSVG fails unless s is a well-formed XML document whose root is svg.
func checkSVG(t *testing.T, name, s string) {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: SVG is not well-formed XML: %v", name, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Fatalf("%s: SVG root element is %q, want svg", name, root)
	}
}

// repoRoot returns the module root: tests run in the package directory,
// one level below it.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// needTool fails under CI and skips elsewhere when an external tool is missing.
func needTool(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg + " (set CI=1 to make this a failure)")
}
