//go:build !linux

package eval

import (
	"errors"
	"os"
)

func dupFile(fd int, name string) (*os.File, error) {
	return nil, errors.New("eval: output redirection is only supported on Linux")
}

func dup2(oldfd, newfd int) error {
	return errors.New("eval: output redirection is only supported on Linux")
}

func readNonblocking(fd uintptr, p []byte) (int, error) {
	return 0, errors.New("eval: output redirection is only supported on Linux")
}
