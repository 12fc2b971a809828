//go:build !unix

package wire

import "errors"

// nonblockingWrites tells newPeerWriter to use blocking writes here.
const nonblockingWrites = false

func writeNonblocking(fd uintptr, b []byte) (int, error) {
	return 0, errors.New("non-blocking writes are not supported on this platform")
}
