package wire

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync"
)

// RouterSocket is the kernel side of the shell, control, stdin and
// heartbeat channels: a ZMQ ROUTER socket (ZMTP 3.0, NULL security) that
// libzmq DEALER and REQ sockets (jupyter_client's) connect to.
//
// Received messages start with the routing identity of the peer that sent
// them; a message sent starts with the identity of the peer it goes to.
// A peer announces its identity in its READY command (jupyter_client uses
// the session id on shell and stdin) or gets a generated one. When a peer
// connects with the identity of a connected one, messages to that
// identity go to the newest connection (a frontend that reconnects gets
// the replies even if its old connection lingers), and back to the older
// one when the newest leaves; both stay connected, so two live peers do
// not knock each other off. Messages to an unknown identity are dropped,
// as libzmq does.
//
// Sends write the whole message to the peer in one non-blocking write
// system call on the calling goroutine, as PubSocket does (zmq4's ROUTER
// passes every message through a queue and a goroutine of its own on each
// side); a peer that does not read loses messages past libzmq's
// high-water mark instead of holding up the kernel (see peerWriter).
type RouterSocket struct {
	ln   net.Listener
	path string // unix socket file to remove on Close

	in   chan [][]byte // received messages, identity first
	done chan struct{} // closed by Close

	mu     sync.Mutex
	joined chan struct{} // closed and replaced each time a peer registers
	peers  map[string]*routerPeer
	conns  map[*routerPeer]struct{} // every connection, handshake done or not
	nextID uint32
	closed bool
	wg     sync.WaitGroup
}

// MaxMessage bounds the size of one message a peer may send (all frames
// together); a peer that sends more is disconnected.
const MaxMessage = 1 << 30

type routerPeer struct {
	c  net.Conn
	w  *peerWriter
	id string // set once by register, under RouterSocket.mu
}

// ListenRouter binds a ROUTER socket to a Jupyter endpoint (tcp://HOST:PORT
// or ipc://PATH) and accepts peers in the background.
func ListenRouter(endpoint string) (*RouterSocket, error) {
	ln, path, err := listenEndpoint("router", endpoint)
	if err != nil {
		return nil, err
	}
	r := &RouterSocket{
		ln:     ln,
		path:   path,
		in:     make(chan [][]byte, 64),
		done:   make(chan struct{}),
		joined: make(chan struct{}),
		peers:  map[string]*routerPeer{},
		conns:  map[*routerPeer]struct{}{},
	}
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

// Addr returns the address the socket listens on.
func (r *RouterSocket) Addr() net.Addr { return r.ln.Addr() }

func (r *RouterSocket) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		peer := &routerPeer{c: c, w: newPeerWriter(c)}
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			c.Close()
			return
		}
		r.conns[peer] = struct{}{}
		r.wg.Add(1)
		r.mu.Unlock()
		go r.serve(peer)
	}
}

// serve does the handshake with one peer, then reads its messages until
// it disconnects or breaks the protocol.
func (r *RouterSocket) serve(peer *routerPeer) {
	defer r.wg.Done()
	defer r.drop(peer)
	br := bufio.NewReaderSize(peer.c, 64<<10)
	props, err := handshake(peer.c, br, "ROUTER", "DEALER", "REQ", "ROUTER")
	if err != nil {
		return
	}
	if !r.register(peer, property(props, "Identity")) {
		return
	}
	for {
		msg, err := r.readMessage(peer, br)
		if err != nil {
			return
		}
		select {
		case r.in <- msg:
		case <-r.done:
			return
		}
	}
}

// register gives peer its routing identity: the one it asked for, or a
// generated one (a zero byte and a counter, as libzmq makes them). A peer
// asking for an identity in use becomes the one messages to it go to.
func (r *RouterSocket) register(peer *routerPeer, id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	if id == "" || id[0] == 0 {
		// Identities starting with a zero byte are reserved for generated
		// ones.
		for {
			r.nextID++
			b := binary.BigEndian.AppendUint32([]byte{0}, r.nextID)
			if _, used := r.peers[string(b)]; !used {
				id = string(b)
				break
			}
		}
	}
	peer.id = id
	r.peers[id] = peer
	close(r.joined)
	r.joined = make(chan struct{})
	return true
}

// WaitPeer waits until a peer with routing identity id is connected, ctx
// is done or the socket is closed. A frontend's handshake on one channel
// can finish after its first request arrives on another; the kernel calls
// WaitPeer before sending the first message on stdin so that a prompt is
// not dropped in that window.
func (r *RouterSocket) WaitPeer(ctx context.Context, id []byte) error {
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return net.ErrClosed
		}
		if r.peers[string(id)] != nil {
			r.mu.Unlock()
			return nil
		}
		joined := r.joined
		r.mu.Unlock()
		select {
		case <-joined:
		case <-ctx.Done():
			return ctx.Err()
		case <-r.done:
			return net.ErrClosed
		}
	}
}

// readMessage reads one multipart message, answering PING commands on
// the way. The result starts with the peer's identity.
func (r *RouterSocket) readMessage(peer *routerPeer, br *bufio.Reader) ([][]byte, error) {
	msg := [][]byte{[]byte(peer.id)}
	total := uint64(0)
	for {
		flags, body, err := readFrame(br, MaxMessage-total)
		if err != nil {
			return nil, err
		}
		if flags&zmtpCommand != 0 {
			if len(msg) > 1 {
				return nil, errors.New("router: command inside a multipart message")
			}
			r.command(peer, body)
			continue
		}
		total += uint64(len(body))
		msg = append(msg, body)
		if flags&zmtpMore == 0 {
			return msg, nil
		}
	}
}

// command answers a ZMTP 3.1 PING with a PONG carrying its context; other
// commands are ignored.
func (r *RouterSocket) command(peer *routerPeer, body []byte) {
	if len(body) < 5 || body[0] != 4 || string(body[1:5]) != "PING" {
		return
	}
	// PING: name, 2-byte TTL, context of up to 16 bytes.
	ctx := body[5:]
	if len(ctx) >= 2 {
		ctx = ctx[2:]
	} else {
		ctx = nil
	}
	if len(ctx) > 16 {
		ctx = ctx[:16]
	}
	pong := append([]byte{4}, "PONG"...)
	pong = append(pong, ctx...)
	peer.w.send(appendFrame(nil, zmtpCommand, pong), 1)
}

func (r *RouterSocket) drop(peer *routerPeer) {
	r.mu.Lock()
	delete(r.conns, peer)
	if peer.id != "" && r.peers[peer.id] == peer {
		delete(r.peers, peer.id)
		// An older connection with the same identity gets its messages
		// again.
		for other := range r.conns {
			if other.id == peer.id {
				r.peers[peer.id] = other
			}
		}
	}
	r.mu.Unlock()
	peer.c.Close()
}

// Recv returns the next message from any peer, its routing identity
// first. It fails with net.ErrClosed once the socket is closed.
func (r *RouterSocket) Recv() ([][]byte, error) {
	select {
	case m := <-r.in:
		return m, nil
	case <-r.done:
		return nil, net.ErrClosed
	}
}

// SendFrames sends a multipart message to the peer named by its first
// frame; the other frames go on the wire. A message to a peer that is not
// connected is dropped without error, as libzmq does; a peer whose
// connection fails is disconnected.
func (r *RouterSocket) SendFrames(frames [][]byte) error {
	if len(frames) < 2 {
		return errors.New("router: a message needs an identity and at least one frame")
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return net.ErrClosed
	}
	peer := r.peers[string(frames[0])]
	r.mu.Unlock()
	if peer == nil {
		return nil
	}
	peer.w.send(appendMessage(nil, frames[1:]), 1)
	return nil
}

// Close stops accepting, disconnects every peer and removes an ipc socket
// file. Recv returns net.ErrClosed after it.
func (r *RouterSocket) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.done)
	err := r.ln.Close()
	for peer := range r.conns {
		peer.c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	if r.path != "" {
		os.Remove(r.path)
	}
	return err
}
