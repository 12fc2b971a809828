// Package wire implements the Jupyter messaging protocol 5.3 on the wire:
// connection files, the message structure, multipart framing with routing
// identities and the "<IDS|MSG>" delimiter, HMAC-SHA256 signing and
// verification, and replay detection. It knows nothing of what a kernel does
// with a message; kernel/server and kernel/client build on it.
package wire

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
)

// ConnectionInfo is the content of a Jupyter connection file: where the five
// channels listen and how messages are signed.
type ConnectionInfo struct {
	Transport       string `json:"transport"` // "tcp" or "ipc"
	IP              string `json:"ip"`        // host for tcp, path prefix for ipc
	ShellPort       int    `json:"shell_port"`
	IOPubPort       int    `json:"iopub_port"`
	StdinPort       int    `json:"stdin_port"`
	ControlPort     int    `json:"control_port"`
	HBPort          int    `json:"hb_port"`
	Key             string `json:"key"`              // HMAC key; empty disables signing
	SignatureScheme string `json:"signature_scheme"` // "hmac-sha256"
	KernelName      string `json:"kernel_name,omitempty"`
}

// Channel names one of the five Jupyter sockets.
type Channel string

// The five channels of a kernel.
const (
	Shell   Channel = "shell"
	IOPub   Channel = "iopub"
	Stdin   Channel = "stdin"
	Control Channel = "control"
	HB      Channel = "hb"
)

// SchemeHMACSHA256 is the only signature scheme gopherlab supports, and the
// one every Jupyter client uses.
const SchemeHMACSHA256 = "hmac-sha256"

// ReadConnectionFile reads and validates a connection file.
func ReadConnectionFile(path string) (*ConnectionInfo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("connection file: %w", err)
	}
	ci, err := ParseConnectionInfo(data)
	if err != nil {
		return nil, fmt.Errorf("connection file %s: %w", path, err)
	}
	return ci, nil
}

// ParseConnectionInfo decodes and validates the JSON of a connection file.
// An empty signature_scheme means hmac-sha256; any other scheme is refused.
func ParseConnectionInfo(data []byte) (*ConnectionInfo, error) {
	var ci ConnectionInfo
	if err := json.Unmarshal(data, &ci); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	if err := ci.Validate(); err != nil {
		return nil, err
	}
	return &ci, nil
}

// Validate checks the transport, the ports and the signature scheme.
func (ci *ConnectionInfo) Validate() error {
	switch ci.Transport {
	case "", "tcp":
		ci.Transport = "tcp"
	case "ipc":
	default:
		return fmt.Errorf("field transport: unsupported transport %q (want \"tcp\" or \"ipc\")", ci.Transport)
	}
	if ci.IP == "" {
		return errors.New("field ip: missing")
	}
	if ci.SignatureScheme == "" {
		ci.SignatureScheme = SchemeHMACSHA256
	}
	if ci.SignatureScheme != SchemeHMACSHA256 {
		return fmt.Errorf("field signature_scheme: unsupported scheme %q (gopherlab supports only %q)", ci.SignatureScheme, SchemeHMACSHA256)
	}
	ports := []struct {
		name string
		v    int
	}{{"shell_port", ci.ShellPort}, {"iopub_port", ci.IOPubPort}, {"stdin_port", ci.StdinPort}, {"control_port", ci.ControlPort}, {"hb_port", ci.HBPort}}
	seen := map[int]string{}
	for _, p := range ports {
		if p.v <= 0 || p.v > 65535 {
			return fmt.Errorf("field %s: invalid port %d", p.name, p.v)
		}
		if other, dup := seen[p.v]; dup {
			return fmt.Errorf("field %s: port %d already used by %s", p.name, p.v, other)
		}
		seen[p.v] = p.name
	}
	return nil
}

// Port returns the port of channel ch.
func (ci *ConnectionInfo) Port(ch Channel) int {
	switch ch {
	case Shell:
		return ci.ShellPort
	case IOPub:
		return ci.IOPubPort
	case Stdin:
		return ci.StdinPort
	case Control:
		return ci.ControlPort
	case HB:
		return ci.HBPort
	}
	return 0
}

// Endpoint returns the ZMQ endpoint of channel ch: "tcp://IP:PORT", or for
// ipc "ipc://IP-PORT" as jupyter_client names the socket files.
func (ci *ConnectionInfo) Endpoint(ch Channel) string {
	port := strconv.Itoa(ci.Port(ch))
	if ci.Transport == "ipc" {
		return "ipc://" + ci.IP + "-" + port
	}
	return "tcp://" + net.JoinHostPort(ci.IP, port)
}

// NewKey returns a random HMAC key as jupyter_client makes them (a uuid4-like
// hex string).
func NewKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// NewTCPConnectionInfo picks five free TCP ports on ip and a random key.
// Ports are found by binding port 0 and closing the listener, as
// jupyter_client does, so another process may take one in between.
func NewTCPConnectionInfo(ip string) (*ConnectionInfo, error) {
	if ip == "" {
		ip = "127.0.0.1"
	}
	var ports [5]int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for i := range ports {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return &ConnectionInfo{
		Transport: "tcp", IP: ip,
		ShellPort: ports[0], IOPubPort: ports[1], StdinPort: ports[2], ControlPort: ports[3], HBPort: ports[4],
		Key: NewKey(), SignatureScheme: SchemeHMACSHA256, KernelName: "gopherlab",
	}, nil
}

// NewIPCConnectionInfo returns ipc connection info whose socket files are
// named PREFIX-1 ... PREFIX-5.
func NewIPCConnectionInfo(prefix string) *ConnectionInfo {
	return &ConnectionInfo{
		Transport: "ipc", IP: prefix,
		ShellPort: 1, IOPubPort: 2, StdinPort: 3, ControlPort: 4, HBPort: 5,
		Key: NewKey(), SignatureScheme: SchemeHMACSHA256, KernelName: "gopherlab",
	}
}

// WriteFile writes ci as a connection file atomically (temp file + rename),
// readable only by the owner since it holds the key.
func (ci *ConnectionInfo) WriteFile(path string) error {
	data, err := json.MarshalIndent(ci, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".conn-*.json")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
