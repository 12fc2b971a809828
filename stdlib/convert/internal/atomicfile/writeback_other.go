//go:build !linux

package atomicfile

// startWriteback does nothing where sync_file_range is missing: Commit's
// fsync writes everything.
func (f *File) startWriteback() {}
