package wire

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/go-zeromq/zmq4"
)

// Socket sends and receives Jupyter messages on one ZMQ socket, signing and
// verifying them. Send is safe for concurrent use; Recv must be called from
// one goroutine at a time.
type Socket struct {
	zs     zmq4.Socket
	pub    *PubSocket    // set instead of zs for gopherlab's own PUB socket
	router *RouterSocket // set instead of zs for gopherlab's own ROUTER socket
	signer *Signer
	mu     sync.Mutex
}

// NewSocket wraps a ZMQ socket with a signer.
func NewSocket(zs zmq4.Socket, s *Signer) *Socket { return &Socket{zs: zs, signer: s} }

// NewPubSocket wraps gopherlab's PUB socket with a signer. Such a socket
// only sends; ZMQ returns nil for it.
func NewPubSocket(p *PubSocket, s *Signer) *Socket { return &Socket{pub: p, signer: s} }

// NewRouterSocket wraps gopherlab's ROUTER socket with a signer. ZMQ
// returns nil for it.
func NewRouterSocket(r *RouterSocket, s *Signer) *Socket { return &Socket{router: r, signer: s} }

// ZMQ returns the underlying ZMQ socket.
func (s *Socket) ZMQ() zmq4.Socket { return s.zs }

// Send encodes, signs and sends m as one multipart message.
func (s *Socket) Send(m *Message) error {
	frames, err := Encode(m, s.signer)
	if err != nil {
		return err
	}
	return s.send(frames)
}

func (s *Socket) send(frames [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pub != nil {
		return s.pub.SendFrames(frames)
	}
	if s.router != nil {
		return s.router.SendFrames(frames)
	}
	return s.zs.SendMulti(zmq4.NewMsgFrom(frames...))
}

// WaitPeer waits until the peer that m's first routing identity names is
// connected (see RouterSocket.WaitPeer). On zmq4 sockets it returns at
// once.
func (s *Socket) WaitPeer(ctx context.Context, m *Message) error {
	if s.router == nil || len(m.Identities) == 0 {
		return nil
	}
	return s.router.WaitPeer(ctx, m.Identities[0])
}

// SendBatch encodes, signs and sends several messages in order. On
// gopherlab's PUB socket they reach each subscriber in one write, so the
// frontend wakes up once for all of them; other sockets send them one by
// one.
func (s *Socket) SendBatch(ms ...*Message) error {
	if s.pub == nil {
		for _, m := range ms {
			if err := s.Send(m); err != nil {
				return err
			}
		}
		return nil
	}
	msgs := make([][][]byte, len(ms))
	for i, m := range ms {
		frames, err := Encode(m, s.signer)
		if err != nil {
			return err
		}
		msgs[i] = frames
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pub.SendMessages(msgs...)
}

// SendFrames sends raw frames unchanged (used to test how peers handle
// malformed input).
func (s *Socket) SendFrames(frames ...[]byte) error { return s.send(frames) }

// DecodeError is returned by Recv when frames arrived but were not a valid
// message; the socket is still usable.
type DecodeError struct {
	Frames int   // how many frames arrived
	Err    error // what was wrong (wraps ErrBadSignature, ErrReplayed, ...)
}

// Error describes the dropped message.
func (e *DecodeError) Error() string {
	return fmt.Sprintf("dropped message of %d frames: %v", e.Frames, e.Err)
}

// Unwrap returns the reason, for errors.Is.
func (e *DecodeError) Unwrap() error { return e.Err }

// Recv receives the next message. A malformed, badly signed or replayed
// message yields a *DecodeError; any other error means the socket is closed.
func (s *Socket) Recv() (*Message, error) {
	if s.pub != nil {
		return nil, errors.New("wire: receive on a PUB socket")
	}
	frames, err := s.RecvFrames()
	if err != nil {
		return nil, err
	}
	return s.DecodeFrames(frames)
}

// Incoming returns the channel on which a socket of gopherlab's own
// ROUTER delivers what it receives, raw (decode with DecodeFrames), for a
// goroutine that serves requests while it waits for other events too: it
// saves the hand-off to a goroutine calling Recv. It is nil for other
// sockets. Recv and Incoming take from the same channel.
func (s *Socket) Incoming() <-chan [][]byte {
	if s.router == nil {
		return nil
	}
	return s.router.in
}

// DecodeFrames decodes and verifies frames received on s, as Recv does;
// frames that are not a valid, correctly signed, fresh message yield a
// *DecodeError.
func (s *Socket) DecodeFrames(frames [][]byte) (*Message, error) {
	m, err := Decode(frames, s.signer)
	if err != nil {
		return nil, &DecodeError{Frames: len(frames), Err: err}
	}
	return m, nil
}

// RecvFrames receives the next raw multipart message.
func (s *Socket) RecvFrames() ([][]byte, error) {
	if s.pub != nil {
		return nil, errors.New("wire: receive on a PUB socket")
	}
	if s.router != nil {
		return s.router.Recv()
	}
	zm, err := s.zs.Recv()
	if err != nil {
		return nil, err
	}
	return zm.Frames, nil
}

// IsDecodeError reports whether err is a recoverable *DecodeError.
func IsDecodeError(err error) bool {
	var d *DecodeError
	return errors.As(err, &d)
}

// Close closes the underlying socket.
func (s *Socket) Close() error {
	if s.pub != nil {
		return s.pub.Close()
	}
	if s.router != nil {
		return s.router.Close()
	}
	return s.zs.Close()
}
