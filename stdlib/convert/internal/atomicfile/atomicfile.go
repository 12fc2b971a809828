// Package atomicfile writes a file under a temporary name in the target
// directory and renames it into place only when the writer commits, so a
// crash or an interrupt never leaves a half-written file under the final name.
package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
)

// TempPrefix starts the name of every temporary file; TempInfix follows the
// final base name. A temporary file for "dir/x.parquet" is
// "dir/.x.parquet.tmp-<random>", which never matches "*.parquet".
const (
	TempPrefix = "."
	TempInfix  = ".tmp-"
)

// File is a file being written atomically. It is not safe for concurrent use.
type File struct {
	*os.File
	final string
	done  bool
}

// Create opens a temporary file next to path. Write to it, then call Commit
// to move it to path, or Abort to remove it.
func Create(path string) (*File, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, TempPrefix+base+TempInfix+"*")
	if err != nil {
		return nil, err
	}
	return &File{File: f, final: path}, nil
}

// Path returns the final path the file gets on Commit.
func (f *File) Path() string { return f.final }

// StartWriteback starts writing what was written so far to stable storage
// without waiting, so that Commit has less left to flush. Writers call it
// after each large piece.
func (f *File) StartWriteback() {
	if !f.done {
		f.startWriteback()
	}
}

// Commit flushes the file to stable storage, closes it and renames it to its
// final path.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: already committed or aborted")
	}
	f.done = true
	tmp := f.File.Name()
	if err := f.File.Sync(); err != nil {
		f.File.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.File.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, f.final); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// Abort closes and removes the temporary file. It is safe to call after
// Commit (it then does nothing), so `defer f.Abort()` is the usual pattern.
func (f *File) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	f.File.Close()
	return os.Remove(f.File.Name())
}

// IsTemp reports whether name (a base name) is a temporary file of this
// package.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, TempPrefix) && strings.Contains(name, TempInfix)
}
