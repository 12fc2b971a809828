package wire

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"os"
	"sync"
)

// PubSocket is the kernel side of the iopub channel: a ZMQ PUB socket
// (ZMTP 3.0, NULL security) that writes every message to each subscribed
// peer on the calling goroutine, in one non-blocking write system call per
// peer.
//
// zmq4's PUB socket hands every message to a writer goroutine through a
// queue, which costs a goroutine wake-up per message; on a busy machine
// that made iopub messages reach the frontend several hundred microseconds
// after the shell reply. Messages to one peer keep their order; a peer
// that does not keep up gets a backlog, and past libzmq's high-water mark
// loses messages as with libzmq, so a stalled frontend never holds up the
// kernel (see peerWriter).
type PubSocket struct {
	ln   net.Listener
	path string // unix socket file to remove on Close

	mu     sync.Mutex
	peers  map[*pubPeer]struct{}
	closed bool
	wg     sync.WaitGroup
}

type pubPeer struct {
	c  net.Conn
	w  *peerWriter
	mu sync.Mutex // guards subs
	// subs are the subscribed topic prefixes; a message goes to the peer
	// when its first frame starts with one of them.
	subs [][]byte
}

// ListenPub binds a PUB socket to a Jupyter endpoint (tcp://HOST:PORT or
// ipc://PATH) and accepts subscribers in the background.
func ListenPub(endpoint string) (*PubSocket, error) {
	ln, path, err := listenEndpoint("pub", endpoint)
	if err != nil {
		return nil, err
	}
	p := &PubSocket{ln: ln, path: path, peers: map[*pubPeer]struct{}{}}
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
	peer := &pubPeer{c: c, w: newPeerWriter(c)}
	r := bufio.NewReader(c)
	if _, err := handshake(c, r, "PUB", "SUB", "XSUB"); err != nil {
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
		flags, body, err := readFrame(r, maxFrame)
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

// SendFrames writes one multipart message to every peer subscribed to its
// first frame. A peer whose connection fails is disconnected; Send itself
// fails only when the socket is closed.
func (p *PubSocket) SendFrames(frames [][]byte) error { return p.SendMessages(frames) }

// SendMessages writes several multipart messages, in order, to the peers
// subscribed to their first frames, in one write system call per peer:
// the frontend is woken once for all of them. It fails like SendFrames.
func (p *PubSocket) SendMessages(msgs ...[][]byte) error {
	for _, frames := range msgs {
		if len(frames) == 0 {
			return errors.New("pub: empty message")
		}
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
	var all []byte                      // every message, for peers subscribed to all
	bounds := make([]int, 0, len(msgs)) // where each message ends in all
	for _, frames := range msgs {
		all = appendMessage(all, frames)
		bounds = append(bounds, len(all))
	}
	for _, peer := range peers {
		peer.mu.Lock()
		out, n := all, len(msgs)
		for _, frames := range msgs {
			if !peer.wants(frames[0]) {
				out, n = nil, 0
				break
			}
		}
		if out == nil {
			for i, frames := range msgs {
				if peer.wants(frames[0]) {
					start := 0
					if i > 0 {
						start = bounds[i-1]
					}
					out = append(out, all[start:bounds[i]]...)
					n++
				}
			}
		}
		peer.mu.Unlock()
		if n > 0 {
			peer.w.send(out, n)
		}
	}
	return nil
}

// wants reports whether the peer subscribed to a prefix of topic. The
// caller holds peer.mu.
func (peer *pubPeer) wants(topic []byte) bool {
	for _, s := range peer.subs {
		if bytes.HasPrefix(topic, s) {
			return true
		}
	}
	return false
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
