package wire

import (
	"container/list"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sync"
)

// DefaultReplayWindow is how many signatures a Signer remembers to reject
// replayed messages; ipykernel keeps 2^16.
const DefaultReplayWindow = 1 << 16

// Signer signs outgoing messages and verifies incoming ones with
// HMAC-SHA256. A Signer with an empty key signs nothing and accepts every
// message, as Jupyter does when the connection file's key is empty. It is
// safe for concurrent use.
type Signer struct {
	key []byte

	mu     sync.Mutex
	mac    hash.Hash
	window int
	seen   map[string]*list.Element
	order  *list.List // oldest signature at the front
}

// NewSigner returns a Signer for scheme ("" means hmac-sha256) and key.
// Unsupported schemes are refused.
func NewSigner(scheme, key string) (*Signer, error) {
	if scheme != "" && scheme != SchemeHMACSHA256 {
		return nil, fmt.Errorf("unsupported signature scheme %q (gopherlab supports only %q)", scheme, SchemeHMACSHA256)
	}
	s := &Signer{key: []byte(key), window: DefaultReplayWindow, seen: map[string]*list.Element{}, order: list.New()}
	if len(s.key) > 0 {
		s.mac = hmac.New(sha256.New, s.key)
	}
	return s, nil
}

// SetReplayWindow sets how many recent signatures are remembered (minimum 1).
func (s *Signer) SetReplayWindow(n int) {
	if n < 1 {
		n = 1
	}
	s.mu.Lock()
	s.window = n
	s.trim()
	s.mu.Unlock()
}

// Enabled reports whether messages are signed.
func (s *Signer) Enabled() bool { return s != nil && len(s.key) > 0 }

// Sign returns the hex HMAC of parts, or an empty signature without a key.
func (s *Signer) Sign(parts ...[]byte) []byte {
	if !s.Enabled() {
		return []byte{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sumLocked(parts)
}

func (s *Signer) sumLocked(parts [][]byte) []byte {
	s.mac.Reset()
	for _, p := range parts {
		s.mac.Write(p)
	}
	var sum [sha256.Size]byte
	out := make([]byte, hex.EncodedLen(sha256.Size))
	hex.Encode(out, s.mac.Sum(sum[:0]))
	return out
}

// Verify checks sig against the HMAC of parts in constant time.
func (s *Signer) Verify(sig []byte, parts ...[]byte) error {
	if !s.Enabled() {
		return nil
	}
	if len(sig) == 0 {
		return ErrMissingSignature
	}
	s.mu.Lock()
	want := s.sumLocked(parts)
	s.mu.Unlock()
	if !hmac.Equal(want, sig) {
		return ErrBadSignature
	}
	return nil
}

// checkReplay records sig and fails if it was seen within the window.
func (s *Signer) checkReplay(sig []byte) error {
	if !s.Enabled() {
		return nil
	}
	k := string(sig)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.seen[k]; dup {
		return ErrReplayed
	}
	s.seen[k] = s.order.PushBack(k)
	s.trim()
	return nil
}

func (s *Signer) trim() {
	for s.order.Len() > s.window {
		e := s.order.Front()
		s.order.Remove(e)
		delete(s.seen, e.Value.(string))
	}
}
