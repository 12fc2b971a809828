package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gopherlab/gopherlab/kernel/wire/prebind"
)

// This file holds the parts of ZMTP 3 (the ZeroMQ wire protocol, NULL
// security mechanism) shared by gopherlab's own PUB and ROUTER sockets.

// ZMTP frame flags.
const (
	zmtpMore    = 0x01
	zmtpLong    = 0x02
	zmtpCommand = 0x04
)

// handshakeTimeout bounds the greeting and READY exchange with a peer.
const handshakeTimeout = 10 * time.Second

// handshake exchanges greetings and READY commands as a socket of type
// self, accepting peers whose Socket-Type is one of peers. It returns the
// metadata properties of the peer's READY command.
func handshake(c net.Conn, r *bufio.Reader, self string, peers ...string) (props []byte, err error) {
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	defer c.SetDeadline(time.Time{})
	var g [greetingLen]byte
	g[0], g[9] = 0xff, 0x7f
	// ZMTP 3.0: PUB subscriptions travel as messages, and no peer needs
	// the 3.1 commands; a 3.1 peer talks 3.0 with us.
	g[10], g[11] = 3, 0
	copy(g[12:], "NULL")
	if _, err := c.Write(g[:]); err != nil {
		return nil, err
	}
	var peer [greetingLen]byte
	if _, err := io.ReadFull(r, peer[:]); err != nil {
		return nil, err
	}
	if peer[0] != 0xff || peer[9] != 0x7f || peer[10] < 3 {
		return nil, fmt.Errorf("%s: peer does not speak ZMTP 3", strings.ToLower(self))
	}
	if mech := string(bytes.TrimRight(peer[12:32], "\x00")); mech != "NULL" {
		return nil, fmt.Errorf("%s: unsupported security mechanism %q", strings.ToLower(self), mech)
	}
	var ready []byte
	ready = append(ready, 5)
	ready = append(ready, "READY"...)
	ready = appendProperty(ready, "Socket-Type", self)
	if _, err := c.Write(appendFrame(nil, zmtpCommand, ready)); err != nil {
		return nil, err
	}
	flags, body, err := readFrame(r, maxFrame)
	if err != nil {
		return nil, err
	}
	if flags&zmtpCommand == 0 || len(body) < 6 || string(body[1:6]) != "READY" {
		return nil, fmt.Errorf("%s: peer sent no READY command", strings.ToLower(self))
	}
	props = body[6:]
	if t := property(props, "Socket-Type"); !slices.Contains(peers, t) {
		return nil, fmt.Errorf("%s: peer socket type %q cannot connect", strings.ToLower(self), t)
	}
	return props, nil
}

func appendProperty(b []byte, name, value string) []byte {
	b = append(b, byte(len(name)))
	b = append(b, name...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(value)))
	return append(b, value...)
}

// property returns the value of metadata property name, or "".
func property(b []byte, name string) string {
	for len(b) > 0 {
		n := int(b[0])
		if len(b) < 1+n+4 {
			return ""
		}
		k := string(b[1 : 1+n])
		size := binary.BigEndian.Uint32(b[1+n:])
		b = b[1+n+4:]
		if uint64(size) > uint64(len(b)) {
			return ""
		}
		if strings.EqualFold(k, name) {
			return string(b[:size])
		}
		b = b[size:]
	}
	return ""
}

// maxFrame bounds what a subscriber may send in one frame, and the
// commands of any peer.
const maxFrame = 1 << 20

// errFrameTooLong is returned by readFrame for a frame above its limit.
var errFrameTooLong = errors.New("frame too long")

// readFrame reads one frame of at most limit bytes. The body is allocated
// as it arrives, so a bogus size costs no memory before the bytes come.
func readFrame(r *bufio.Reader, limit uint64) (flags byte, body []byte, err error) {
	flags, err = r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	var size uint64
	if flags&zmtpLong != 0 {
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		size = binary.BigEndian.Uint64(b[:])
	} else {
		s, err := r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		size = uint64(s)
	}
	if size > limit {
		return 0, nil, fmt.Errorf("%w: %d bytes, limit %d", errFrameTooLong, size, limit)
	}
	const chunk = 1 << 20
	if size <= chunk {
		body = make([]byte, size)
		_, err = io.ReadFull(r, body)
		return flags, body, err
	}
	var buf bytes.Buffer
	buf.Grow(chunk)
	if _, err := io.CopyN(&buf, r, int64(size)); err != nil {
		return 0, nil, err
	}
	return flags, buf.Bytes(), nil
}

func appendFrame(b []byte, flags byte, body []byte) []byte {
	if len(body) > 255 {
		b = append(b, flags|zmtpLong)
		b = binary.BigEndian.AppendUint64(b, uint64(len(body)))
	} else {
		b = append(b, flags, byte(len(body)))
	}
	return append(b, body...)
}

// appendMessage appends frames as one multipart message.
func appendMessage(b []byte, frames [][]byte) []byte {
	n := 0
	for _, f := range frames {
		n += 9 + len(f)
	}
	b = slices.Grow(b, n)
	for i, f := range frames {
		var flags byte
		if i < len(frames)-1 {
			flags = zmtpMore
		}
		b = appendFrame(b, flags, f)
	}
	return b
}

// takePrebound returns the listener package prebind bound for addr while
// the program initialized, if any.
func takePrebound(addr string) (net.Listener, bool) {
	fd, ok := prebind.Take(addr)
	if !ok {
		return nil, false
	}
	f := os.NewFile(uintptr(fd), "tcp:"+addr)
	defer f.Close()
	l, err := net.FileListener(f)
	if err != nil {
		return nil, false
	}
	return l, true
}

// listenEndpoint binds a Jupyter endpoint (tcp://HOST:PORT, where a host of
// "*" means every interface, or ipc://PATH) for a socket of the given kind,
// which names it in errors. A TCP address that package prebind bound at
// start is taken over. For ipc it also returns the socket file's path,
// which the caller removes when it closes.
func listenEndpoint(kind, endpoint string) (ln net.Listener, path string, err error) {
	network, addr, ok := strings.Cut(endpoint, "://")
	if !ok {
		return nil, "", fmt.Errorf("%s: bad endpoint %q", kind, endpoint)
	}
	switch network {
	case "tcp":
		if l, ok := takePrebound(addr); ok {
			return l, "", nil
		}
		if h, port, ok := strings.Cut(addr, ":"); ok && (h == "*" || h == "") {
			addr = ":" + port
		}
	case "ipc":
		network, path = "unix", addr
	default:
		return nil, "", fmt.Errorf("%s: unsupported transport %q", kind, network)
	}
	ln, err = net.Listen(network, addr)
	if err != nil {
		return nil, "", err
	}
	return ln, path, nil
}
