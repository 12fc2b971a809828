// Package history keeps the input history of gopherlab kernels in an
// append-only JSON Lines file, so that history_request (tail, range, search)
// sees cells from earlier sessions, as IPython's history database does.
//
// Each kernel start opens a new session with the next session number. Every
// record is one line written with a single write call, so a crash loses at
// most the line being written; a torn or garbage line is skipped when read.
package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Entry is one stored input.
type Entry struct {
	Session int    `json:"session"`
	Line    int    `json:"line"`
	Source  string `json:"source"`
	Time    string `json:"time,omitempty"`
}

// record is one line of the file: either a session start or an entry.
type record struct {
	Session int    `json:"session"`
	Line    int    `json:"line,omitempty"`
	Source  string `json:"source,omitempty"`
	Start   string `json:"start,omitempty"` // set on session-start records
	Time    string `json:"time,omitempty"`
}

// DefaultPath returns where the history file lives:
// $XDG_DATA_HOME/gopherlab/history.jsonl, else
// ~/.local/share/gopherlab/history.jsonl.
func DefaultPath() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "gopherlab", "history.jsonl"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("history: no home directory: %w", err)
	}
	return filepath.Join(home, ".local", "share", "gopherlab", "history.jsonl"), nil
}

// Store is an open history file with a current session. It is safe for
// concurrent use, including by several kernel processes sharing one file.
type Store struct {
	path    string
	mu      sync.Mutex
	f       *os.File
	session int
	line    int
	mem     []Entry // inputs of a store without a file (NewMemory)
	memOnly bool
}

// NewMemory returns a store that keeps one session in memory only, for
// kernels that cannot write a history file.
func NewMemory() *Store { return &Store{session: 1, memOnly: true} }

// Open opens (creating if needed) the history file at path and starts a new
// session numbered one past the highest in the file.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	// Hold an exclusive lock while finding the last session and claiming the
	// next, so two kernels started together get different numbers.
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("history: lock %s: %w", path, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	maxSession, err := lastSession(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("history: reading %s: %w", path, err)
	}
	s := &Store{path: path, f: f, session: maxSession + 1}
	if err := s.append(record{Session: s.session, Start: now()}); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// lastSession finds the highest session number by reading the file
// backwards: sessions are claimed under the lock in increasing order, so
// the last session-start record holds the highest number. Kernel start-up
// then costs the same with a long history as with an empty one.
func lastSession(f *os.File) (int, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	const chunk = 64 << 10
	end := st.Size()
	var tail []byte // bytes after the last newline not yet parsed
	best := 0
	for end > 0 {
		start := max(end-chunk, 0)
		buf := make([]byte, end-start)
		if _, err := f.ReadAt(buf, start); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		buf = append(buf, tail...)
		lines := bytes.Split(buf, []byte("\n"))
		// The first piece may be a partial line unless we are at the start.
		first := 0
		if start > 0 {
			first = 1
			tail = lines[0]
		}
		for i := len(lines) - 1; i >= first; i-- {
			var r record
			if json.Unmarshal(lines[i], &r) != nil || r.Session <= 0 {
				continue
			}
			if r.Start != "" {
				return max(best, r.Session), nil
			}
			best = max(best, r.Session)
		}
		end = start
	}
	return best, nil
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// Path returns the file's path ("" for a memory store).
func (s *Store) Path() string { return s.path }

// Session returns the current session number (1 for the first ever).
func (s *Store) Session() int { return s.session }

// Add appends source as line number line of the current session. Lines are
// the execution counts of the cells.
func (s *Store) Add(line int, source string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.memOnly {
		s.mem = append(s.mem, Entry{Session: s.session, Line: line, Source: source, Time: now()})
		return nil
	}
	if s.f == nil {
		return errors.New("history: store is closed")
	}
	if line > s.line {
		s.line = line
	}
	return s.append(record{Session: s.session, Line: line, Source: source, Time: now()})
}

func (s *Store) append(r record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	// One write of a whole line: O_APPEND makes it land at the end even
	// with several writers.
	if _, err := s.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("history: append to %s: %w", s.path, err)
	}
	return nil
}

// Close closes the file. Stored entries stay readable by later sessions.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// scan calls fn for every well-formed record of the file at path; torn or
// garbage lines (from a crash mid-write) are skipped.
func scan(path string, fn func(record)) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for sc.Scan() {
		var r record
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.Session <= 0 {
			continue
		}
		fn(r)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("history: reading %s: %w", path, err)
	}
	return nil
}

// entries returns every stored input in file order.
func (s *Store) entries() ([]Entry, error) {
	if s.memOnly {
		s.mu.Lock()
		defer s.mu.Unlock()
		return append([]Entry(nil), s.mem...), nil
	}
	var out []Entry
	err := scan(s.path, func(r record) {
		if r.Start == "" && r.Line > 0 {
			out = append(out, Entry{Session: r.Session, Line: r.Line, Source: r.Source, Time: r.Time})
		}
	})
	return out, err
}

// Tail returns the last n inputs (all when n <= 0), oldest first. With
// unique, only the latest occurrence of each source is kept.
func (s *Store) Tail(n int, unique bool) ([]Entry, error) {
	all, err := s.entries()
	if err != nil {
		return nil, err
	}
	if unique {
		all = dedupe(all)
	}
	return last(all, n), nil
}

// Range returns the inputs of one session with start <= line < stop (stop
// <= 0 means to the end). Session 0 is the current session and a negative
// session counts back from it, as in IPython.
func (s *Store) Range(session, start, stop int) ([]Entry, error) {
	if session <= 0 {
		session += s.session
	}
	all, err := s.entries()
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, e := range all {
		if e.Session == session && e.Line >= start && (stop <= 0 || e.Line < stop) {
			out = append(out, e)
		}
	}
	return out, nil
}

// Search returns the last n inputs (all when n <= 0) whose source matches
// the glob pattern ("*" any text, "?" one character, "[...]" a class), oldest
// first. An empty pattern matches everything.
func (s *Store) Search(pattern string, n int, unique bool) ([]Entry, error) {
	re, err := globRegexp(pattern)
	if err != nil {
		return nil, err
	}
	all, err := s.entries()
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, e := range all {
		if re.MatchString(e.Source) {
			out = append(out, e)
		}
	}
	if unique {
		out = dedupe(out)
	}
	return last(out, n), nil
}

func last(es []Entry, n int) []Entry {
	if n > 0 && len(es) > n {
		return es[len(es)-n:]
	}
	return es
}

// dedupe keeps the latest occurrence of each source, in order.
func dedupe(es []Entry) []Entry {
	seen := map[string]bool{}
	var rev []Entry
	for i := len(es) - 1; i >= 0; i-- {
		if !seen[es[i].Source] {
			seen[es[i].Source] = true
			rev = append(rev, es[i])
		}
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev
}

// globRegexp turns a glob into an anchored regexp matching across lines.
func globRegexp(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		pattern = "*"
	}
	var b strings.Builder
	b.WriteString(`(?s)^`)
	rs := []rune(pattern)
	for i := 0; i < len(rs); i++ {
		switch c := rs[i]; c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := -1
			for k := i + 1; k < len(rs); k++ {
				if rs[k] == ']' {
					j = k
					break
				}
			}
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := string(rs[i+1 : j])
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("history: bad pattern %q: %w", pattern, err)
	}
	return re, nil
}
