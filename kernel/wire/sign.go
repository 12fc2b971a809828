package wire

import (
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
	seen   map[digest]struct{}
	ring   []digest // signatures in arrival order, oldest at next once full
	next   int
}

// digest is a verified signature in binary form (32 bytes instead of 64
// hex characters), so a full replay window costs a few MiB at most.
type digest [sha256.Size]byte

// NewSigner returns a Signer for scheme ("" means hmac-sha256) and key.
// Unsupported schemes are refused.
func NewSigner(scheme, key string) (*Signer, error) {
	if scheme != "" && scheme != SchemeHMACSHA256 {
		return nil, fmt.Errorf("unsupported signature scheme %q (gopherlab supports only %q)", scheme, SchemeHMACSHA256)
	}
	s := &Signer{key: []byte(key), window: DefaultReplayWindow, seen: map[digest]struct{}{}}
	if len(s.key) > 0 {
		s.mac = hmac.New(sha256.New, s.key)
	}
	return s, nil
}

// SetReplayWindow sets how many recent signatures are remembered (minimum
// 1). It forgets the signatures remembered so far.
func (s *Signer) SetReplayWindow(n int) {
	if n < 1 {
		n = 1
	}
	s.mu.Lock()
	s.window = n
	s.seen = map[digest]struct{}{}
	s.ring, s.next = nil, 0
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

// checkReplay records sig (already verified, so 64 hex digits) and fails
// if it was seen within the window.
func (s *Signer) checkReplay(sig []byte) error {
	if !s.Enabled() {
		return nil
	}
	var d digest
	if _, err := hex.Decode(d[:], sig); err != nil {
		return ErrBadSignature
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.seen[d]; dup {
		return ErrReplayed
	}
	s.seen[d] = struct{}{}
	if len(s.ring) < s.window {
		s.ring = append(s.ring, d)
		return nil
	}
	delete(s.seen, s.ring[s.next])
	s.ring[s.next] = d
	s.next = (s.next + 1) % s.window
	return nil
}
