//go:build linux

package prebind

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestBindConnectionFileListensOnEveryPort(t *testing.T) {
	ports := []int{freePort(t), freePort(t), freePort(t), freePort(t), freePort(t)}
	conn := filepath.Join(t.TempDir(), "kernel.json")
	os.WriteFile(conn, []byte(fmt.Sprintf(`{"transport": "tcp", "ip": "127.0.0.1", "shell_port": %d,
		"iopub_port": %d, "stdin_port": %d, "control_port": %d, "hb_port": %d, "key": "k"}`,
		ports[0], ports[1], ports[2], ports[3], ports[4])), 0o600)
	bindConnectionFile(conn)
	for _, p := range ports {
		addr := "127.0.0.1:" + strconv.Itoa(p)
		// The port accepts connections before anybody called Take.
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("%s not listening after bindConnectionFile: %v", addr, err)
		}
		c.Close()
		fd, ok := Take(addr)
		if !ok {
			t.Fatalf("Take(%s) found nothing", addr)
		}
		if _, ok := Take(addr); ok {
			t.Fatalf("Take(%s) returned the socket twice", addr)
		}
		syscall.Close(fd)
	}
}

func TestBindConnectionFileLeavesOtherTransports(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"ipc.json":     `{"transport": "ipc", "ip": "` + filepath.Join(dir, "k") + `", "shell_port": 1}`,
		"ipv6.json":    `{"transport": "tcp", "ip": "::1", "shell_port": 45678}`,
		"garbage.json": `{"transport": `,
	} {
		conn := filepath.Join(dir, name)
		os.WriteFile(conn, []byte(content), 0o600)
		bindConnectionFile(conn)
	}
	bindConnectionFile(filepath.Join(dir, "missing.json"))
	mu.Lock()
	n := len(fds)
	mu.Unlock()
	if n != 0 {
		t.Fatalf("%d sockets bound for connection files prebind must leave alone", n)
	}
}
