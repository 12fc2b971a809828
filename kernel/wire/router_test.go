package wire

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// libzmqPython is Debian's python3 with pyzmq, the libzmq binding
// jupyter_client uses.
const libzmqPython = "/usr/bin/python3"

func needPyzmq(t *testing.T) {
	t.Helper()
	if err := exec.Command(libzmqPython, "-c", "import zmq").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("pyzmq (Debian python3-zmq) is required in CI: %v", err)
		}
		t.Skipf("pyzmq is not available: %v", err)
	}
}

// echo answers every message received on r with the same frames, as the
// kernel's heartbeat does, and records the identities it saw.
func echo(t *testing.T, r *RouterSocket) (identities func() []string) {
	var mu sync.Mutex
	var seen []string
	go func() {
		for {
			m, err := r.Recv()
			if err != nil {
				return
			}
			mu.Lock()
			seen = append(seen, string(m[0]))
			mu.Unlock()
			if err := r.SendFrames(m); err != nil {
				t.Errorf("echo: %v", err)
			}
		}
	}()
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

func TestRouterSocketWithLibzmq(t *testing.T) {
	needPyzmq(t)
	for _, tr := range []string{"tcp", "ipc"} {
		t.Run(tr, func(t *testing.T) {
			ep := "tcp://127.0.0.1:0"
			if tr == "ipc" {
				ep = "ipc://" + filepath.Join(t.TempDir(), "shell")
			}
			r, err := ListenRouter(ep)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if tr == "tcp" {
				ep = "tcp://" + r.Addr().String()
			}
			seen := echo(t, r)
			out, err := exec.Command(libzmqPython, filepath.Join("testdata", "router_peers.py"), ep).CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != "ok" {
				t.Fatalf("router_peers.py: %v\n%s", err, out)
			}
			generated := map[string]bool{}
			alice := 0
			for _, id := range seen() {
				switch {
				case id == "alice":
					alice++
				case len(id) == 5 && id[0] == 0:
					generated[id] = true
				default:
					t.Errorf("identity %q is neither the one asked for nor a generated one", id)
				}
			}
			// The anonymous DEALER and the REQ get distinct identities.
			if len(generated) != 2 || alice != 4 {
				t.Errorf("saw %d generated identities and %d messages from alice, want 2 and 4", len(generated), alice)
			}
		})
	}
}

// rawPeer is a hand-driven ZMTP connection to r.
type rawPeer struct {
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, r interface{ Addr() net.Addr }, socketType, identity string) *rawPeer {
	t.Helper()
	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p := &rawPeer{c: c, r: bufio.NewReader(c)}
	if socketType == "" {
		return p
	}
	// The client side of the handshake: greeting, then READY with the
	// identity (handshake sends no Identity property itself).
	var g [greetingLen]byte
	g[0], g[9], g[10] = 0xff, 0x7f, 3
	copy(g[12:], "NULL")
	c.Write(g[:])
	if _, err := readFull(p.r, greetingLen); err != nil {
		t.Fatal(err)
	}
	ready := append([]byte{5}, "READY"...)
	ready = appendProperty(ready, "Socket-Type", socketType)
	ready = appendProperty(ready, "Identity", identity)
	c.Write(appendFrame(nil, zmtpCommand, ready))
	flags, body, err := readFrame(p.r, maxFrame)
	if err != nil || flags&zmtpCommand == 0 || len(body) < 6 || string(body[1:6]) != "READY" {
		t.Fatalf("READY from the socket: flags %x, %q, %v", flags, body, err)
	}
	return p
}

func readFull(r *bufio.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return b, err
}

// closedSoon reports whether the ROUTER closed the connection within a
// few seconds.
func (p *rawPeer) closedSoon() bool {
	p.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := p.r.ReadByte()
	for err == nil {
		_, err = p.r.ReadByte()
	}
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

func TestRouterSocketDropsBadPeersAndKeepsServing(t *testing.T) {
	r, err := ListenRouter("tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	seen := echo(t, r)

	garbage := dialRaw(t, r, "", "")
	garbage.c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n" + strings.Repeat("\x00", 64)))
	if !garbage.closedSoon() {
		t.Error("a peer sending HTTP instead of a ZMTP greeting was not disconnected")
	}

	pub := dialRaw(t, r, "", "")
	var g [greetingLen]byte
	g[0], g[9], g[10] = 0xff, 0x7f, 3
	copy(g[12:], "CURVE")
	pub.c.Write(g[:])
	if !pub.closedSoon() {
		t.Error("a peer asking for CURVE security was not disconnected")
	}

	sub := dialRaw(t, r, "SUB", "")
	if !sub.closedSoon() {
		t.Error("a SUB socket was accepted by a ROUTER")
	}

	// A frame announcing 2^62 bytes: dropped at once, nothing allocated.
	huge := dialRaw(t, r, "DEALER", "huge")
	hdr := []byte{zmtpLong}
	hdr = binary.BigEndian.AppendUint64(hdr, 1<<62)
	huge.c.Write(hdr)
	if !huge.closedSoon() {
		t.Error("a peer announcing a 2^62-byte frame was not disconnected")
	}

	// A peer that stops in the middle of a multipart message: nothing of
	// it is delivered.
	cut := dialRaw(t, r, "DEALER", "cut")
	cut.c.Write(appendFrame(nil, zmtpMore, []byte("part one")))
	cut.c.Close()

	// ZMTP 3.1 heartbeat: PING gets a PONG with the same context.
	ping := dialRaw(t, r, "DEALER", "ping")
	cmd := append([]byte{4}, "PING"...)
	cmd = append(cmd, 0, 10) // TTL
	cmd = append(cmd, "ctx-42"...)
	ping.c.Write(appendFrame(nil, zmtpCommand, cmd))
	ping.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	flags, body, err := readFrame(ping.r, maxFrame)
	if err != nil || flags&zmtpCommand == 0 || string(body) != "\x04PONGctx-42" {
		t.Fatalf("answer to PING: flags %x %q %v, want PONG ctx-42", flags, body, err)
	}

	// A well-behaved peer still gets its echo, and sees only its own.
	good := dialRaw(t, r, "DEALER", "good")
	good.c.Write(appendMessage(nil, [][]byte{[]byte("hello"), []byte("world")}))
	good.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for _, want := range []string{"hello", "world"} {
		_, body, err := readFrame(good.r, maxFrame)
		if err != nil || string(body) != want {
			t.Fatalf("echo frame %q, %v; want %q", body, err, want)
		}
	}
	for _, id := range seen() {
		if id != "good" {
			t.Errorf("a message from %q was delivered", id)
		}
	}
	// Messages to peers that are gone are dropped without error.
	if err := r.SendFrames([][]byte{[]byte("nobody"), []byte("x")}); err != nil {
		t.Errorf("send to an unknown identity: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Recv(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Recv after Close: %v, want net.ErrClosed", err)
	}
	if !good.closedSoon() {
		t.Error("Close left a peer connected")
	}
}

// readMessage reads one multipart message from the socket under test.
func (p *rawPeer) readMessage() ([][]byte, error) {
	var msg [][]byte
	for {
		flags, body, err := readFrame(p.r, MaxMessage)
		if err != nil {
			return nil, err
		}
		if flags&zmtpCommand != 0 {
			continue
		}
		msg = append(msg, body)
		if flags&zmtpMore == 0 {
			return msg, nil
		}
	}
}

func TestRouterSocketDoesNotWaitForAPeerThatDoesNotRead(t *testing.T) {
	r, err := ListenRouter("tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stalled := dialRaw(t, r, "DEALER", "stalled")
	stalled.c.Write(appendMessage(nil, [][]byte{[]byte("hello")}))
	if m, err := r.Recv(); err != nil || string(m[0]) != "stalled" {
		t.Fatalf("first message: %q %v", m, err)
	}
	// More than the socket buffers hold, then more messages than the
	// high-water mark: without a backlog the sender would wait for the
	// peer until the write timeout.
	big, small := make([]byte, 256<<10), []byte("small")
	const total = 40 + sendHWM + 500
	done := make(chan error, 1)
	go func() {
		for i := 0; i < total; i++ {
			body := small
			if i < 40 {
				body = big
			}
			seq := binary.BigEndian.AppendUint32(nil, uint32(i))
			if err := r.SendFrames([][]byte{[]byte("stalled"), seq, body}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(peerWriteTimeout / 2):
		t.Fatal("SendFrames waited for a peer that does not read")
	}
	// The peer reads now: whole messages, in order, the ones past the
	// high-water mark or backlog limit dropped.
	stalled.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	last := -1
	for {
		m, err := stalled.readMessage()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && last >= 0 {
				break
			}
			t.Fatalf("after message %d: %v", last, err)
		}
		if len(m) != 2 || len(m[0]) != 4 {
			t.Fatalf("message after %d has %d frames", last, len(m))
		}
		i := int(binary.BigEndian.Uint32(m[0]))
		if i <= last || (i < 40) != (len(m[1]) == len(big)) {
			t.Fatalf("message %d (%d bytes) after %d", i, len(m[1]), last)
		}
		last = i
		stalled.c.SetReadDeadline(time.Now().Add(time.Second))
	}
	if last < 39 {
		t.Errorf("the peer got messages up to %d only, want at least the first 40", last)
	}
}

func TestRouterSocketWaitPeer(t *testing.T) {
	r, err := ListenRouter("tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Nobody named "late" is connected: WaitPeer gives up with ctx.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := r.WaitPeer(ctx, []byte("late")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitPeer with nobody connected: %v", err)
	}
	// A peer with another identity does not end the wait; "late" does,
	// and a message sent then reaches it.
	waited := make(chan error, 1)
	go func() { waited <- r.WaitPeer(context.Background(), []byte("late")) }()
	dialRaw(t, r, "DEALER", "other")
	select {
	case err := <-waited:
		t.Fatalf("WaitPeer returned %v when another peer connected", err)
	case <-time.After(50 * time.Millisecond):
	}
	late := dialRaw(t, r, "DEALER", "late")
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	if err := r.SendFrames([][]byte{[]byte("late"), []byte("prompt")}); err != nil {
		t.Fatal(err)
	}
	late.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if m, err := late.readMessage(); err != nil || len(m) != 1 || string(m[0]) != "prompt" {
		t.Fatalf("late peer got %q %v", m, err)
	}
	// Close ends a wait.
	go func() { waited <- r.WaitPeer(context.Background(), []byte("never")) }()
	r.Close()
	if err := <-waited; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("WaitPeer after Close: %v", err)
	}
}
