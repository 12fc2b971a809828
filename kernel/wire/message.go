package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"slices"
	"time"

	"github.com/google/uuid"
)

// ProtocolVersion is the Jupyter messaging protocol version gopherlab speaks.
const ProtocolVersion = "5.3"

// Delimiter separates routing identities from the signed message parts.
const Delimiter = "<IDS|MSG>"

// Header is a message header (and, in a reply, its parent_header).
type Header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	Date     string `json:"date"` // ISO 8601 with timezone
	MsgType  string `json:"msg_type"`
	Version  string `json:"version"`
}

// IsZero reports whether h is the empty header ({} on the wire).
func (h Header) IsZero() bool { return h == Header{} }

// Message is one Jupyter message.
type Message struct {
	// Identities are the routing frames before the delimiter: ZMQ peer
	// identities on ROUTER sockets, the topic on iopub.
	Identities   [][]byte
	Header       Header
	ParentHeader Header
	Metadata     map[string]any
	// Content is the JSON object of the message body.
	Content json.RawMessage
	// Buffers are extra binary frames after the content.
	Buffers [][]byte

	// headerJSON is the header as received (set by Decode); a message
	// whose parent is this one sends it back verbatim as parent_header,
	// with every field the sender put there.
	headerJSON []byte
	// parentJSON and parentOf are the parent's headerJSON and Header as
	// SetParent saw them; Encode uses parentJSON while ParentHeader still
	// equals parentOf.
	parentJSON []byte
	parentOf   Header
}

// SetParent makes p the parent of m: its header becomes m's
// parent_header. A parent that was received is sent back as it arrived.
func (m *Message) SetParent(p *Message) {
	m.ParentHeader = p.Header
	m.parentJSON, m.parentOf = p.headerJSON, p.Header
}

// Type returns the msg_type.
func (m *Message) Type() string { return m.Header.MsgType }

// Decode unmarshals the content into v.
func (m *Message) Decode(v any) error {
	if err := json.Unmarshal(m.Content, v); err != nil {
		return fmt.Errorf("%s content: %w", m.Header.MsgType, err)
	}
	return nil
}

var hostUser = func() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "gopherlab"
}()

// NewHeader returns a fresh header of type msgType for session.
func NewHeader(msgType, session string) Header {
	return Header{
		MsgID:    uuid.NewString(),
		Session:  session,
		Username: hostUser,
		Date:     time.Now().UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
		MsgType:  msgType,
		Version:  ProtocolVersion,
	}
}

// NewMessage builds a message of type msgType in session with content
// (marshaled to JSON; nil becomes {}; a json.RawMessage is used as is). When parent is non-nil, its header
// becomes the parent_header and its identities the routing identities, so
// the message goes back to the peer that sent parent.
func NewMessage(msgType, session string, parent *Message, content any) (*Message, error) {
	m := &Message{Header: NewHeader(msgType, session)} // nil Metadata is sent as {}
	if parent != nil {
		m.SetParent(parent)
		m.Identities = parent.Identities
	}
	switch c := content.(type) {
	case nil:
		m.Content = json.RawMessage("{}")
	case json.RawMessage:
		m.Content = c // already JSON: taken as is
	default:
		b, err := json.Marshal(content)
		if err != nil {
			return nil, fmt.Errorf("%s content: %w", msgType, err)
		}
		m.Content = b
	}
	return m, nil
}

// Errors returned by Decode. Every frame sequence that is not a valid,
// correctly signed, fresh message yields one of these (wrapped), never a
// panic.
var (
	ErrNoDelimiter      = errors.New("no <IDS|MSG> delimiter")
	ErrTooFewFrames     = errors.New("too few frames after the delimiter")
	ErrMissingSignature = errors.New("missing signature")
	ErrBadSignature     = errors.New("bad signature")
	ErrReplayed         = errors.New("replayed message (signature seen before)")
	ErrBadJSON          = errors.New("invalid JSON")
)

// Encode turns m into frames: identities, delimiter, signature, header,
// parent_header, metadata, content, buffers. s may be nil (no signing).
func Encode(m *Message, s *Signer) ([][]byte, error) {
	header := appendHeader(nil, &m.Header)
	parent := []byte("{}")
	switch {
	case m.parentJSON != nil && m.ParentHeader == m.parentOf:
		parent = m.parentJSON
	case !m.ParentHeader.IsZero():
		parent = appendHeader(nil, &m.ParentHeader)
	}
	var err error
	meta := []byte("{}")
	if len(m.Metadata) > 0 {
		if meta, err = json.Marshal(m.Metadata); err != nil {
			return nil, fmt.Errorf("metadata: %w", err)
		}
	}
	content := []byte(m.Content)
	if len(content) == 0 {
		content = []byte("{}")
	}
	frames := make([][]byte, 0, len(m.Identities)+6+len(m.Buffers))
	frames = append(frames, m.Identities...)
	frames = append(frames, []byte(Delimiter), s.Sign(header, parent, meta, content), header, parent, meta, content)
	frames = append(frames, m.Buffers...)
	return frames, nil
}

// Decode parses frames received on a socket. It verifies the signature when
// s has a key and rejects replays. The identities of the result are the
// frames before the delimiter.
func Decode(frames [][]byte, s *Signer) (*Message, error) {
	d := -1
	for i, f := range frames {
		if bytes.Equal(f, []byte(Delimiter)) {
			d = i
			break
		}
	}
	if d < 0 {
		return nil, ErrNoDelimiter
	}
	rest := frames[d+1:]
	if len(rest) < 5 {
		return nil, fmt.Errorf("%w: got %d, need 5 (signature, header, parent_header, metadata, content)", ErrTooFewFrames, len(rest))
	}
	if err := s.Verify(rest[0], rest[1], rest[2], rest[3], rest[4]); err != nil {
		return nil, err
	}
	m := &Message{Identities: frames[:d], headerJSON: rest[1]}
	if err := unmarshalObject(rest[1], &m.Header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if m.Header.MsgType == "" {
		return nil, errors.New("header: missing msg_type")
	}
	if err := unmarshalObject(rest[2], &m.ParentHeader); err != nil {
		return nil, fmt.Errorf("parent_header: %w", err)
	}
	if err := unmarshalObject(rest[3], &m.Metadata); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	if err := checkObject(rest[4]); err != nil {
		return nil, fmt.Errorf("content: %w", err)
	}
	m.Content = json.RawMessage(rest[4])
	if len(rest) > 5 {
		m.Buffers = rest[5:]
	}
	if err := s.checkReplay(rest[0]); err != nil {
		return nil, err
	}
	return m, nil
}

// appendHeader appends h as a JSON object, as encoding/json writes it
// but without reflection: headers go out with every message.
func appendHeader(b []byte, h *Header) []byte {
	b = slices.Grow(b, 96+len(h.MsgID)+len(h.Session)+len(h.Username)+len(h.Date)+len(h.MsgType)+len(h.Version))
	b = append(b, `{"msg_id":`...)
	b = appendJSONString(b, h.MsgID)
	b = append(b, `,"session":`...)
	b = appendJSONString(b, h.Session)
	b = append(b, `,"username":`...)
	b = appendJSONString(b, h.Username)
	b = append(b, `,"date":`...)
	b = appendJSONString(b, h.Date)
	b = append(b, `,"msg_type":`...)
	b = appendJSONString(b, h.MsgType)
	b = append(b, `,"version":`...)
	b = appendJSONString(b, h.Version)
	return append(b, '}')
}

// appendJSONString appends s as a JSON string. Plain ASCII is copied;
// anything else goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// checkObject verifies that b is one valid JSON object without decoding it.
func checkObject(b []byte) error {
	t := bytes.TrimSpace(b)
	if len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("%w: not a JSON object", ErrBadJSON)
	}
	if !json.Valid(t) {
		var v any
		return fmt.Errorf("%w: %v", ErrBadJSON, json.Unmarshal(t, &v))
	}
	return nil
}

// unmarshalObject decodes a JSON object; anything else is ErrBadJSON.
func unmarshalObject(b []byte, v any) error {
	t := bytes.TrimSpace(b)
	if len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("%w: not a JSON object", ErrBadJSON)
	}
	if len(t) == 2 && t[1] == '}' {
		return nil // {}: the common empty parent_header and metadata
	}
	if err := json.Unmarshal(t, v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadJSON, err)
	}
	return nil
}
