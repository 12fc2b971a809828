//go:build linux

package eval

import (
	"fmt"
	"os"
	"syscall"
)

func dupFile(fd int, name string) (*os.File, error) {
	nfd, err := syscall.Dup(fd)
	if err != nil {
		return nil, fmt.Errorf("eval: dup of %s: %w", name, err)
	}
	syscall.CloseOnExec(nfd)
	return os.NewFile(uintptr(nfd), "original-"+name), nil
}

func dup2(oldfd, newfd int) error {
	if err := syscall.Dup3(oldfd, newfd, 0); err != nil {
		return fmt.Errorf("eval: redirecting fd %d: %w", newfd, err)
	}
	return nil
}

// readNonblocking reads from the non-blocking pipe fd what is there;
// errWouldBlock means it is empty, (0, nil) that its writers are gone.
func readNonblocking(fd uintptr, p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), p)
		switch err {
		case nil:
			return n, nil
		case syscall.EINTR:
		case syscall.EAGAIN:
			return 0, errWouldBlock
		default:
			return 0, err
		}
	}
}
