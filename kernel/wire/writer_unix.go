//go:build unix

package wire

import "syscall"

// nonblockingWrites tells newPeerWriter that writeNonblocking works.
const nonblockingWrites = true

// writeNonblocking writes b to the non-blocking socket fd until it is
// written or the socket buffer is full (EAGAIN, not an error here).
func writeNonblocking(fd uintptr, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := syscall.Write(int(fd), b[n:])
		switch err {
		case nil:
			n += k
		case syscall.EINTR:
		case syscall.EAGAIN:
			return n, nil
		default:
			return n, err
		}
	}
	return n, nil
}
