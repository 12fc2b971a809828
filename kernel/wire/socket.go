package wire

import (
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
	pub    *PubSocket // set instead of zs for gopherlab's own PUB socket
	signer *Signer
	mu     sync.Mutex
}

// NewSocket wraps a ZMQ socket with a signer.
func NewSocket(zs zmq4.Socket, s *Signer) *Socket { return &Socket{zs: zs, signer: s} }

// NewPubSocket wraps gopherlab's PUB socket with a signer. Such a socket
// only sends; ZMQ returns nil for it.
func NewPubSocket(p *PubSocket, s *Signer) *Socket { return &Socket{pub: p, signer: s} }

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
	return s.zs.SendMulti(zmq4.NewMsgFrom(frames...))
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
	zm, err := s.zs.Recv()
	if err != nil {
		return nil, err
	}
	m, err := Decode(zm.Frames, s.signer)
	if err != nil {
		return nil, &DecodeError{Frames: len(zm.Frames), Err: err}
	}
	return m, nil
}

// RecvFrames receives the next raw multipart message.
func (s *Socket) RecvFrames() ([][]byte, error) {
	if s.pub != nil {
		return nil, errors.New("wire: receive on a PUB socket")
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

// Close closes the ZMQ socket.
func (s *Socket) Close() error {
	if s.pub != nil {
		return s.pub.Close()
	}
	return s.zs.Close()
}
