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
	"strings"
	"sync"
	"time"
)

// PubSocket is the kernel side of the iopub channel: a ZMQ PUB socket
// (ZMTP 3.0, NULL security) that writes every message to each subscribed
// peer on the calling goroutine, in one write system call per peer.
//
// zmq4's PUB socket hands every message to a writer goroutine through a
// queue, which costs a goroutine wake-up per message; on a busy machine
// that made iopub messages reach the frontend several hundred microseconds
// after the shell reply. Messages to one peer keep their order; a peer
// that has not read for pubWriteTimeout is disconnected (libzmq drops its
// messages instead), so a stalled frontend cannot hang the kernel.
type PubSocket struct {
	ln   net.Listener
	path string // unix socket file to remove on Close

	mu     sync.Mutex
	peers  map[*pubPeer]struct{}
	closed bool
	wg     sync.WaitGroup
}

// pubWriteTimeout bounds how long Send waits for one slow subscriber.
const pubWriteTimeout = 10 * time.Second

type pubPeer struct {
	c  net.Conn
	mu sync.Mutex // serializes writes and guards subs
	// subs are the subscribed topic prefixes; a message goes to the peer
	// when its first frame starts with one of them.
	subs [][]byte
}

// ListenPub binds a PUB socket to a Jupyter endpoint (tcp://HOST:PORT or
// ipc://PATH) and accepts subscribers in the background.
func ListenPub(endpoint string) (*PubSocket, error) {
	network, addr, ok := strings.Cut(endpoint, "://")
	if !ok {
		return nil, fmt.Errorf("pub: bad endpoint %q", endpoint)
	}
	p := &PubSocket{peers: map[*pubPeer]struct{}{}}
	switch network {
	case "tcp":
		if l, ok := takePrebound(addr); ok {
			p.ln = l
			p.wg.Add(1)
			go p.accept()
			return p, nil
		}
		if h, port, ok := strings.Cut(addr, ":"); ok && (h == "*" || h == "") {
			addr = ":" + port
		}
	case "ipc":
		network = "unix"
		p.path = addr
	default:
		return nil, fmt.Errorf("pub: unsupported transport %q", network)
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	p.ln = ln
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address the socket listens on.
func (p *PubSocket) Addr() net.Addr { return p.ln.Addr() }

func (p *PubSocket) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

// serve does the ZMTP handshake with one peer, then reads its
// subscriptions until it disconnects.
func (p *PubSocket) serve(c net.Conn) {
	defer p.wg.Done()
	peer := &pubPeer{c: c}
	r := bufio.NewReader(c)
	if err := handshakePub(c, r); err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.peers[peer] = struct{}{}
	p.mu.Unlock()
	defer p.drop(peer)
	for {
		flags, body, err := readFrame(r)
		if err != nil {
			return
		}
		if flags&zmtpCommand != 0 || len(body) == 0 {
			continue // no commands are expected in ZMTP 3.0 after READY
		}
		topic := body[1:]
		peer.mu.Lock()
		switch body[0] {
		case 1:
			peer.subs = append(peer.subs, append([]byte(nil), topic...))
		case 0:
			for i, s := range peer.subs {
				if bytes.Equal(s, topic) {
					peer.subs = append(peer.subs[:i], peer.subs[i+1:]...)
					break
				}
			}
		}
		peer.mu.Unlock()
	}
}

func (p *PubSocket) drop(peer *pubPeer) {
	p.mu.Lock()
	delete(p.peers, peer)
	p.mu.Unlock()
	peer.c.Close()
}

// ZMTP frame flags.
const (
	zmtpMore    = 0x01
	zmtpLong    = 0x02
	zmtpCommand = 0x04
)

// handshakePub exchanges greetings and READY commands as the PUB side.
func handshakePub(c net.Conn, r *bufio.Reader) error {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	defer c.SetDeadline(time.Time{})
	var g [greetingLen]byte
	g[0], g[9] = 0xff, 0x7f
	g[10], g[11] = 3, 0 // ZMTP 3.0: subscriptions travel as messages
	copy(g[12:], "NULL")
	if _, err := c.Write(g[:]); err != nil {
		return err
	}
	var peer [greetingLen]byte
	if _, err := io.ReadFull(r, peer[:]); err != nil {
		return err
	}
	if peer[0] != 0xff || peer[9] != 0x7f || peer[10] < 3 {
		return errors.New("pub: peer does not speak ZMTP 3")
	}
	if mech := string(bytes.TrimRight(peer[12:32], "\x00")); mech != "NULL" {
		return fmt.Errorf("pub: unsupported security mechanism %q", mech)
	}
	var ready []byte
	ready = append(ready, 5)
	ready = append(ready, "READY"...)
	ready = appendProperty(ready, "Socket-Type", "PUB")
	if _, err := c.Write(appendFrame(nil, zmtpCommand, ready)); err != nil {
		return err
	}
	flags, body, err := readFrame(r)
	if err != nil {
		return err
	}
	if flags&zmtpCommand == 0 || len(body) < 6 || string(body[1:6]) != "READY" {
		return errors.New("pub: peer sent no READY command")
	}
	if t := property(body[6:], "Socket-Type"); t != "SUB" && t != "XSUB" {
		return fmt.Errorf("pub: peer socket type %q cannot subscribe", t)
	}
	return nil
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

// maxFrame bounds what a subscriber may send in one frame.
const maxFrame = 1 << 20

func readFrame(r *bufio.Reader) (flags byte, body []byte, err error) {
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
	if size > maxFrame {
		return 0, nil, fmt.Errorf("pub: frame of %d bytes from subscriber", size)
	}
	body = make([]byte, size)
	_, err = io.ReadFull(r, body)
	return flags, body, err
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

// SendFrames writes one multipart message to every peer subscribed to its
// first frame. A peer whose connection fails is disconnected; Send itself
// fails only when the socket is closed.
func (p *PubSocket) SendFrames(frames [][]byte) error {
	if len(frames) == 0 {
		return errors.New("pub: empty message")
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return net.ErrClosed
	}
	peers := make([]*pubPeer, 0, len(p.peers))
	for peer := range p.peers {
		peers = append(peers, peer)
	}
	p.mu.Unlock()
	if len(peers) == 0 {
		return nil
	}
	var msg []byte
	for i, f := range frames {
		var flags byte
		if i < len(frames)-1 {
			flags = zmtpMore
		}
		msg = appendFrame(msg, flags, f)
	}
	for _, peer := range peers {
		peer.mu.Lock()
		want := false
		for _, s := range peer.subs {
			if bytes.HasPrefix(frames[0], s) {
				want = true
				break
			}
		}
		if want {
			peer.c.SetWriteDeadline(time.Now().Add(pubWriteTimeout))
			if _, err := peer.c.Write(msg); err != nil {
				peer.c.Close() // serve sees the error and drops the peer
			}
		}
		peer.mu.Unlock()
	}
	return nil
}

// Close stops accepting, disconnects every peer and removes an ipc socket
// file.
func (p *PubSocket) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	err := p.ln.Close()
	for peer := range p.peers {
		peer.c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	if p.path != "" {
		os.Remove(p.path)
	}
	return err
}
