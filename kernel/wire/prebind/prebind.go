//go:build linux

// Package prebind binds the TCP ports of a kernel's connection file while
// the gopherlab binary is still initializing its packages.
//
// A frontend such as jupyter_client connects to the kernel's ports right
// after starting the process. If a port is not listening yet the connection
// is refused and libzmq retries only after its reconnect interval (100 ms),
// which made cold starts 100 ms longer than the kernel needed: package
// initialization of the preloaded libraries (Arrow, gonum/plot, the
// interpreter's symbol tables) takes tens of milliseconds before main runs.
// This package has almost no dependencies, so Go initializes it early; its
// init creates listening sockets for "gopherlab kernel CONNECTION_FILE".
// The operating system completes TCP connections on them at once, and the
// ZMQ handshake follows as soon as the kernel accepts. The kernel's
// transports take the sockets with Take instead of binding again.
package prebind

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

var (
	mu  sync.Mutex
	fds = map[string]int{} // "ip:port" -> listening socket
)

func init() {
	if len(os.Args) != 3 || os.Args[1] != "kernel" {
		return
	}
	bindConnectionFile(os.Args[2])
}

// bindConnectionFile binds every port of a tcp connection file with an
// IPv4 address. Anything it cannot do is left to the kernel's normal
// binding, which reports errors properly.
func bindConnectionFile(path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var ci struct {
		Transport string `json:"transport"`
		IP        string `json:"ip"`
		Shell     int    `json:"shell_port"`
		IOPub     int    `json:"iopub_port"`
		Stdin     int    `json:"stdin_port"`
		Control   int    `json:"control_port"`
		HB        int    `json:"hb_port"`
	}
	if json.Unmarshal(data, &ci) != nil || (ci.Transport != "tcp" && ci.Transport != "") {
		return
	}
	ip, ok := parseIPv4(ci.IP)
	if !ok {
		return
	}
	for _, port := range []int{ci.Shell, ci.IOPub, ci.Stdin, ci.Control, ci.HB} {
		if port <= 0 || port > 65535 {
			continue
		}
		if fd, err := listenTCP4(ip, port); err == nil {
			mu.Lock()
			fds[ci.IP+":"+strconv.Itoa(port)] = fd
			mu.Unlock()
		}
	}
}

func parseIPv4(s string) ([4]byte, bool) {
	var ip [4]byte
	if s == "*" {
		return ip, true
	}
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return ip, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 255 {
			return ip, false
		}
		ip[i] = byte(n)
	}
	return ip, true
}

func listenTCP4(ip [4]byte, port int) (int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	// As Go's net package does, so a port in TIME_WAIT can be reused.
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Port: port, Addr: ip}); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	if err := syscall.Listen(fd, syscall.SOMAXCONN); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

// Take returns the listening socket bound at start for addr ("IP:PORT",
// as in the connection file) and forgets it; ok is false when there is
// none. The caller owns the file descriptor.
func Take(addr string) (fd int, ok bool) {
	mu.Lock()
	defer mu.Unlock()
	fd, ok = fds[addr]
	delete(fds, addr)
	return fd, ok
}
