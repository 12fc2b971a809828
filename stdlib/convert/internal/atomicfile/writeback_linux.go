package atomicfile

import "syscall"

// startWriteback asks the kernel to start writing the file's dirty pages
// to disk without waiting (sync_file_range with SYNC_FILE_RANGE_WRITE).
// It is only a hint: errors are left to Commit's fsync.
func (f *File) startWriteback() {
	const syncFileRangeWrite = 2
	rc, err := f.File.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		syscall.Syscall6(syscall.SYS_SYNC_FILE_RANGE, fd, 0, 0, syncFileRangeWrite, 0, 0)
	})
}
