package history

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func sources(es []Entry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.Source)
	}
	return out
}

func TestSessionsPersistAcrossOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "history.jsonl")
	s1, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if s1.Session() != 1 {
		t.Fatalf("first session = %d", s1.Session())
	}
	s1.Add(1, "a := 1")
	s1.Add(2, "a + 1")
	s1.Close()

	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.Session() != 2 {
		t.Fatalf("second session = %d", s2.Session())
	}
	s2.Add(1, "fmt.Println(a)")
	tail, err := s2.Tail(10, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{{1, 1, "a := 1", ""}, {1, 2, "a + 1", ""}, {2, 1, "fmt.Println(a)", ""}}
	for i := range tail {
		tail[i].Time = ""
	}
	if !reflect.DeepEqual(tail, want) {
		t.Fatalf("tail = %+v", tail)
	}
	prev, _ := s2.Range(-1, 1, 0)
	if got := sources(prev); !reflect.DeepEqual(got, []string{"a := 1", "a + 1"}) {
		t.Fatalf("range session -1 = %q", got)
	}
	cur, _ := s2.Range(0, 1, 2)
	if got := sources(cur); !reflect.DeepEqual(got, []string{"fmt.Println(a)"}) {
		t.Fatalf("range current = %q", got)
	}
	one, _ := s2.Range(1, 2, 3)
	if got := sources(one); !reflect.DeepEqual(got, []string{"a + 1"}) {
		t.Fatalf("range 1 [2,3) = %q", got)
	}
}

func TestTailSearchUnique(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "h.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, src := range []string{"x := 1", "fmt.Println(x)", "x := 1", "y := [2]int{}", "fmt.Printf(\"%d\", x)", "é := 1"} {
		s.Add(i+1, src)
	}
	tests := []struct {
		name string
		get  func() ([]Entry, error)
		want []string
	}{
		{"tail 2", func() ([]Entry, error) { return s.Tail(2, false) }, []string{"fmt.Printf(\"%d\", x)", "é := 1"}},
		{"tail unique", func() ([]Entry, error) { return s.Tail(0, true) }, []string{"fmt.Println(x)", "x := 1", "y := [2]int{}", "fmt.Printf(\"%d\", x)", "é := 1"}},
		{"search prefix", func() ([]Entry, error) { return s.Search("fmt.*", 0, false) }, []string{"fmt.Println(x)", "fmt.Printf(\"%d\", x)"}},
		{"search n", func() ([]Entry, error) { return s.Search("fmt.*", 1, false) }, []string{"fmt.Printf(\"%d\", x)"}},
		{"search question mark", func() ([]Entry, error) { return s.Search("? := 1", 0, true) }, []string{"x := 1", "é := 1"}},
		{"search class", func() ([]Entry, error) { return s.Search("[xy] := *", 0, false) }, []string{"x := 1", "x := 1", "y := [2]int{}"}},
		{"search literal brackets", func() ([]Entry, error) { return s.Search("*[[]2]*", 0, false) }, []string{"y := [2]int{}"}},
		{"search none", func() ([]Entry, error) { return s.Search("nothing*", 0, false) }, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.get()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(sources(got), tt.want) {
				t.Fatalf("got %q, want %q", sources(got), tt.want)
			}
		})
	}
}

func TestTornLinesAreSkipped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.jsonl")
	s, _ := Open(path)
	s.Add(1, "ok := true")
	s.Close()
	// Simulate a crash mid-write and some garbage.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("not json\n{\"session\":1,\"line\":2,\"sour")
	f.Close()
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	s2.Add(1, "after := 1")
	got, _ := s2.Tail(0, false)
	if !reflect.DeepEqual(sources(got), []string{"ok := true", "after := 1"}) {
		t.Fatalf("got %q", sources(got))
	}
	if s2.Session() != 2 {
		t.Fatalf("session %d", s2.Session())
	}
}

func TestConcurrentOpensGetDistinctSessions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.jsonl")
	var wg sync.WaitGroup
	sessions := make([]int, 8)
	for i := range sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(path)
			if err != nil {
				t.Error(err)
				return
			}
			sessions[i] = s.Session()
			s.Close()
		}()
	}
	wg.Wait()
	seen := map[int]bool{}
	for _, n := range sessions {
		if seen[n] {
			t.Fatalf("duplicate session %d in %v", n, sessions)
		}
		seen[n] = true
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/data")
	if p, _ := DefaultPath(); p != "/data/gopherlab/history.jsonl" {
		t.Fatalf("path %q", p)
	}
}

func TestMemoryStore(t *testing.T) {
	s := NewMemory()
	s.Add(1, "a")
	s.Add(2, "b")
	got, err := s.Tail(1, false)
	if err != nil || !reflect.DeepEqual(sources(got), []string{"b"}) || s.Session() != 1 {
		t.Fatalf("got %q %v session %d", sources(got), err, s.Session())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestLastSessionAcrossChunks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.jsonl")
	for i := 1; i <= 3; i++ {
		s, err := Open(path)
		if err != nil {
			t.Fatal(err)
		}
		// Enough entries that the session records span several 64 KiB
		// chunks when read backwards.
		for line := 1; line <= 400; line++ {
			s.Add(line, strings.Repeat("x", 300))
		}
		s.Close()
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"session":2,"line":401,"source":"late write from an older kernel"}` + "\n" + `{"sess`)
	f.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Session() != 4 {
		t.Fatalf("session %d, want 4", s.Session())
	}
}
