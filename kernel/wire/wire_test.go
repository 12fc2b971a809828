package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseConnectionInfo(t *testing.T) {
	valid := `{"transport":"tcp","ip":"127.0.0.1","shell_port":1,"iopub_port":2,"stdin_port":3,"control_port":4,"hb_port":5,"key":"k","signature_scheme":"hmac-sha256"}`
	tests := []struct {
		name, json, wantErr string
		endpoint            string
	}{
		{"tcp", valid, "", "tcp://127.0.0.1:1"},
		{"ipc", strings.Replace(strings.Replace(valid, `"tcp"`, `"ipc"`, 1), "127.0.0.1", "/tmp/kernel-x", 1), "", "ipc:///tmp/kernel-x-1"},
		{"default scheme and transport", `{"ip":"::1","shell_port":1,"iopub_port":2,"stdin_port":3,"control_port":4,"hb_port":5}`, "", "tcp://[::1]:1"},
		{"unsupported scheme", strings.Replace(valid, "hmac-sha256", "hmac-md5", 1), `unsupported scheme "hmac-md5"`, ""},
		{"unsupported transport", strings.Replace(valid, `"tcp"`, `"udp"`, 1), `unsupported transport "udp"`, ""},
		{"missing ip", strings.Replace(valid, `"127.0.0.1"`, `""`, 1), "field ip", ""},
		{"bad port", strings.Replace(valid, `"hb_port":5`, `"hb_port":0`, 1), "field hb_port", ""},
		{"duplicate port", strings.Replace(valid, `"hb_port":5`, `"hb_port":1`, 1), "already used by shell_port", ""},
		{"not json", `{"ip":`, "invalid JSON", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ci, err := ParseConnectionInfo([]byte(tt.json))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ci.Endpoint(Shell); got != tt.endpoint {
				t.Errorf("shell endpoint = %q, want %q", got, tt.endpoint)
			}
			if ci.SignatureScheme != SchemeHMACSHA256 {
				t.Errorf("scheme = %q", ci.SignatureScheme)
			}
		})
	}
}

func TestConnectionFileRoundTrip(t *testing.T) {
	ci, err := NewTCPConnectionInfo("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kernel.json")
	if err := ci.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadConnectionFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *ci {
		t.Fatalf("read %+v, wrote %+v", got, ci)
	}
	if _, err := ReadConnectionFile(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Fatal("missing file: no error")
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"ip":"x","signature_scheme":"hmac-sha1"}`), 0o600)
	if _, err := ReadConnectionFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("bad file error %v does not name the file", err)
	}
}

func mustSigner(t testing.TB, key string) *Signer {
	s, err := NewSigner(SchemeHMACSHA256, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNewSignerRefusesScheme(t *testing.T) {
	if _, err := NewSigner("hmac-sha512", "k"); err == nil {
		t.Fatal("hmac-sha512 accepted")
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	send, recv := mustSigner(t, "secret"), mustSigner(t, "secret")
	parent, _ := NewMessage("execute_request", "s1", nil, map[string]any{"code": "1+1"})
	parent.Identities = [][]byte{[]byte("peer-a"), []byte("peer-b")}
	m, err := NewMessage("execute_reply", "s2", parent, map[string]any{"status": "ok", "execution_count": 3})
	if err != nil {
		t.Fatal(err)
	}
	m.Buffers = [][]byte{{0, 1, 2}, {}}
	frames, err := Encode(m, send)
	if err != nil {
		t.Fatal(err)
	}
	if string(frames[2]) != Delimiter || string(frames[0]) != "peer-a" {
		t.Fatalf("frames start %q", frames[:3])
	}
	got, err := Decode(frames, recv)
	if err != nil {
		t.Fatal(err)
	}
	if got.Header != m.Header || got.ParentHeader != parent.Header {
		t.Errorf("headers differ: %+v / %+v", got.Header, got.ParentHeader)
	}
	if len(got.Identities) != 2 || !bytes.Equal(got.Buffers[0], []byte{0, 1, 2}) || len(got.Buffers) != 2 {
		t.Errorf("identities %q buffers %q", got.Identities, got.Buffers)
	}
	var c struct {
		Status string `json:"status"`
		Count  int    `json:"execution_count"`
	}
	if err := got.Decode(&c); err != nil || c.Status != "ok" || c.Count != 3 {
		t.Errorf("content %+v %v", c, err)
	}
	if _, err := time.Parse(time.RFC3339Nano, got.Header.Date); err != nil {
		t.Errorf("date %q is not ISO 8601 with timezone: %v", got.Header.Date, err)
	}
	if got.Header.Version != "5.3" || len(got.Header.MsgID) != 36 {
		t.Errorf("header %+v", got.Header)
	}
	// Replaying the same frames is refused.
	if _, err := Decode(frames, recv); !errors.Is(err, ErrReplayed) {
		t.Fatalf("replay: err = %v", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	key := "k"
	good := func() [][]byte {
		m, _ := NewMessage("kernel_info_request", "s", nil, nil)
		f, _ := Encode(m, mustSigner(t, key))
		return f
	}
	sign := func(f [][]byte) [][]byte {
		f[1] = mustSigner(t, key).Sign(f[2], f[3], f[4], f[5])
		return f
	}
	tests := []struct {
		name   string
		frames func() [][]byte
		want   error
	}{
		{"no delimiter", func() [][]byte { return [][]byte{[]byte("garbage")} }, ErrNoDelimiter},
		{"empty", func() [][]byte { return nil }, ErrNoDelimiter},
		{"too few frames", func() [][]byte { return good()[:4] }, ErrTooFewFrames},
		{"missing signature", func() [][]byte { f := good(); f[1] = nil; return f }, ErrMissingSignature},
		{"bad signature", func() [][]byte { f := good(); f[1] = bytes.Repeat([]byte("a"), 64); return f }, ErrBadSignature},
		{"tampered content", func() [][]byte { f := good(); f[5] = []byte(`{"x":1}`); return f }, ErrBadSignature},
		{"bad header json", func() [][]byte { f := good(); f[2] = []byte(`{"msg_type":`); return sign(f) }, ErrBadJSON},
		{"content not object", func() [][]byte { f := good(); f[5] = []byte(`[1]`); return sign(f) }, ErrBadJSON},
		{"header not object", func() [][]byte { f := good(); f[2] = []byte(`"x"`); return sign(f) }, ErrBadJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.frames(), mustSigner(t, key))
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("missing msg_type", func(t *testing.T) {
		f := good()
		f[2] = []byte(`{"msg_id":"x"}`)
		if _, err := Decode(sign(f), mustSigner(t, key)); err == nil || !strings.Contains(err.Error(), "msg_type") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestNoKeyMeansNoSigning(t *testing.T) {
	s := mustSigner(t, "")
	m, _ := NewMessage("kernel_info_request", "s", nil, nil)
	f, _ := Encode(m, s)
	if len(f[1]) != 0 {
		t.Fatalf("signature %q without key", f[1])
	}
	if _, err := Decode(f, s); err != nil {
		t.Fatal(err)
	}
	// Without a key there is nothing to detect replays with; both pass.
	if _, err := Decode(f, s); err != nil {
		t.Fatal(err)
	}
	// A message signed with some key is accepted by a keyless receiver.
	f2, _ := Encode(m, mustSigner(t, "other"))
	if _, err := Decode(f2, s); err != nil {
		t.Fatal(err)
	}
}

func TestReplayWindowIsBounded(t *testing.T) {
	send, recv := mustSigner(t, "k"), mustSigner(t, "k")
	recv.SetReplayWindow(3)
	var first, last [][]byte
	for i := 0; i < 5; i++ {
		m, _ := NewMessage("kernel_info_request", "s", nil, nil)
		f, _ := Encode(m, send)
		if i == 0 {
			first = append([][]byte(nil), f...)
		}
		last = f
		if _, err := Decode(f, recv); err != nil {
			t.Fatal(err)
		}
	}
	if len(recv.seen) != 3 || len(recv.ring) != 3 {
		t.Fatalf("window holds %d signatures, want 3", len(recv.seen))
	}
	if _, err := Decode(last, recv); !errors.Is(err, ErrReplayed) {
		t.Fatalf("recent replay after the window wrapped: %v", err)
	}
	// The first signature fell out of the window, so it is accepted again:
	// the window bounds memory, as in ipykernel.
	if _, err := Decode(first, recv); err != nil {
		t.Fatalf("evicted signature: %v", err)
	}
}

func TestEmptyParentEncodesAsObject(t *testing.T) {
	m, _ := NewMessage("status", "s", nil, map[string]string{"execution_state": "starting"})
	f, _ := Encode(m, nil)
	if string(f[3]) != "{}" || string(f[4]) != "{}" {
		t.Fatalf("parent %s metadata %s", f[3], f[4])
	}
	var h map[string]any
	if err := json.Unmarshal(f[2], &h); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"msg_id", "session", "username", "date", "msg_type", "version"} {
		if _, ok := h[k]; !ok {
			t.Errorf("header lacks %s", k)
		}
	}
}

func FuzzDecode(f *testing.F) {
	s := mustSigner(f, "")
	m, _ := NewMessage("execute_request", "s", nil, map[string]any{"code": "x"})
	good, _ := Encode(m, s)
	f.Add(bytes.Join(good, []byte{0}))
	f.Add([]byte("<IDS|MSG>\x00\x00{}\x00{}\x00{}\x00{}"))
	f.Add([]byte("\x00\x00\x00"))
	f.Add([]byte(`<IDS|MSG>` + "\x00sig\x00" + `{"msg_type":"x"}` + "\x00null\x00[]\x00{}"))
	keyed := mustSigner(f, "k")
	f.Fuzz(func(t *testing.T, data []byte) {
		frames := bytes.Split(data, []byte{0})
		for _, sg := range []*Signer{s, keyed} {
			msg, err := Decode(frames, sg)
			if err == nil {
				if msg.Header.MsgType == "" {
					t.Fatal("decoded message without msg_type")
				}
				if _, err := Encode(msg, sg); err != nil {
					t.Fatalf("re-encode: %v", err)
				}
			}
		}
	})
}

func TestHeaderJSONMatchesEncodingJSON(t *testing.T) {
	for _, h := range []Header{
		NewHeader("status", "f2a7c0d4-3c56-4f0e-9d7b-0f6b7a0c9e11"),
		{MsgID: `quote " and \ backslash`, Session: "tab\tnewline\n", Username: "Zoë <admin> & co", Date: "2026-11-21T14:53:21.589928Z", MsgType: "x", Version: "5.3"},
		{Username: "bad utf-8 \xff"},
		{},
	} {
		want, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendHeader(nil, &h); string(got) != string(want) {
			t.Errorf("appendHeader(%+v) = %s, want %s", h, got, want)
		}
	}
}

func TestReplyCarriesTheParentHeaderAsReceived(t *testing.T) {
	s := mustSigner(t, "k")
	// A newer client adds a header field gopherlab does not know; the reply
	// must carry it back, as ipykernel does.
	header := `{"msg_id":"m1","session":"s1","username":"u","date":"2026-11-21T14:53:21.589928Z","msg_type":"execute_request","version":"5.4","subshell_id":null}`
	parts := [][]byte{[]byte(header), []byte("{}"), []byte("{}"), []byte(`{"code":"1+1"}`)}
	frames := append([][]byte{[]byte("client-id"), []byte(Delimiter), s.Sign(parts...)}, parts...)
	req, err := Decode(frames, s)
	if err != nil {
		t.Fatal(err)
	}
	reply, err := NewMessage("execute_reply", "kernel", req, map[string]string{"status": "ok"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Encode(reply, s)
	if err != nil {
		t.Fatal(err)
	}
	if string(out[0]) != "client-id" || string(out[4]) != header {
		t.Fatalf("reply to %q with parent_header %s, want the request's header as sent", out[0], out[4])
	}
	// Changing ParentHeader after SetParent is honoured.
	reply.ParentHeader.MsgID = "other"
	out, _ = Encode(reply, s)
	var got Header
	if err := json.Unmarshal(out[4], &got); err != nil || got.MsgID != "other" || got.MsgType != "execute_request" {
		t.Fatalf("parent_header after change: %s (%v)", out[4], err)
	}
}

// BenchmarkEncodeStatus measures building, encoding and signing one iopub
// status message with a parent, as the kernel does several times per
// request. Run with: go test -run '^$' -bench EncodeStatus ./kernel/wire
func BenchmarkEncodeStatus(b *testing.B) {
	s := mustSigner(b, "0123456789abcdef0123456789abcdef")
	parent, err := NewMessage("execute_request", "client", nil, map[string]string{"code": "1+1"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m, _ := NewMessage("status", "kernel", nil, map[string]string{"execution_state": "busy"})
		m.SetParent(parent)
		m.Identities = [][]byte{[]byte("kernel.x.status")}
		frames, err := Encode(m, s)
		if err != nil {
			b.Fatal(err)
		}
		appendMessage(nil, frames)
	}
}
