package wire

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
)

// dialSub connects a zmq4 SUB socket subscribed to topic and waits until a
// probe message published on the PUB side arrives, so that the
// subscription is known to have reached it.
func dialSub(t *testing.T, p *PubSocket, endpoint, topic string) zmq4.Socket {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sub := zmq4.NewSub(ctx)
	t.Cleanup(func() { sub.Close() })
	if err := sub.Dial(endpoint); err != nil {
		t.Fatal(err)
	}
	if err := sub.SetOption(zmq4.OptionSubscribe, topic); err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		m, err := sub.Recv()
		if err == nil && string(m.Frames[1]) != "probe" {
			err = fmt.Errorf("first message %q, want the probe", m.Frames)
		}
		got <- err
	}()
	deadline := time.After(10 * time.Second)
	for {
		if err := p.SendFrames([][]byte{[]byte(topic), []byte("probe")}); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
			return sub
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatal("the subscription never reached the PUB socket")
		}
	}
}

func TestPubSocketDeliversToSubscribersInOrder(t *testing.T) {
	for _, tr := range []string{"tcp", "ipc"} {
		t.Run(tr, func(t *testing.T) {
			ep := "tcp://127.0.0.1:0"
			if tr == "ipc" {
				ep = "ipc://" + filepath.Join(t.TempDir(), "iopub")
			}
			p, err := ListenPub(ep)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if tr == "tcp" {
				ep = "tcp://" + p.Addr().String()
			}
			all := dialSub(t, p, ep, "")
			onlyA := dialSub(t, p, ep, "a")
			// Drain the other socket's probes from the catch-all subscriber.
			for {
				m, err := all.Recv()
				if err != nil {
					t.Fatal(err)
				}
				if string(m.Frames[0]) == "a" {
					break
				}
			}
			big := strings.Repeat("x", 70000) // a long frame (8-byte size)
			sent := [][][]byte{
				{[]byte("a.1"), []byte("one"), []byte(big)},
				{[]byte("b.1"), []byte("two")},
				{[]byte("a.2"), []byte("three")},
			}
			for _, m := range sent {
				if err := p.SendFrames(m); err != nil {
					t.Fatal(err)
				}
			}
			for _, want := range []string{"one", "two", "three"} {
				m, err := all.Recv()
				if err != nil {
					t.Fatal(err)
				}
				for len(m.Frames) == 2 && string(m.Frames[1]) == "probe" {
					if m, err = all.Recv(); err != nil {
						t.Fatal(err)
					}
				}
				if string(m.Frames[1]) != want {
					t.Fatalf("catch-all subscriber got %q, want %q", m.Frames[1], want)
				}
				if want == "one" && (len(m.Frames) != 3 || string(m.Frames[2]) != big) {
					t.Fatalf("long frame did not arrive intact (%d frames)", len(m.Frames))
				}
			}
			for _, want := range []string{"one", "three"} {
				m, err := onlyA.Recv()
				if err != nil {
					t.Fatal(err)
				}
				for string(m.Frames[1]) == "probe" {
					if m, err = onlyA.Recv(); err != nil {
						t.Fatal(err)
					}
				}
				if string(m.Frames[1]) != want {
					t.Fatalf("subscriber to %q got %q, want %q", "a", m.Frames[1], want)
				}
			}
		})
	}
}

func TestPubSocketRejectsNonSubscribers(t *testing.T) {
	p, err := ListenPub("tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// A DEALER is not allowed to connect to a PUB socket.
	d := zmq4.NewDealer(ctx, zmq4.WithDialerRetry(-1))
	defer d.Close()
	d.Dial("tcp://" + p.Addr().String())
	time.Sleep(100 * time.Millisecond)
	p.mu.Lock()
	n := len(p.peers)
	p.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d peers after a DEALER connected, want 0", n)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.SendFrames([][]byte{[]byte("x")}); err == nil {
		t.Fatal("SendFrames on a closed socket succeeded")
	}
}

func TestPubSocketSendMessagesFiltersEachMessage(t *testing.T) {
	p, err := ListenPub("tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ep := "tcp://" + p.Addr().String()
	onlyA := dialSub(t, p, ep, "a")
	all := dialSub(t, p, ep, "")
	batch := [][][]byte{
		{[]byte("a.status"), []byte("busy")},
		{[]byte("b.input"), []byte("code")},
		{[]byte("a.result"), []byte(strings.Repeat("r", 300))},
	}
	if err := p.SendMessages(batch...); err != nil {
		t.Fatal(err)
	}
	recv := func(s zmq4.Socket) string {
		for {
			m, err := s.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if string(m.Frames[1]) != "probe" {
				return string(m.Frames[1])
			}
		}
	}
	for _, want := range []string{"busy", "code", strings.Repeat("r", 300)} {
		if got := recv(all); got != want {
			t.Fatalf("catch-all subscriber got %q, want %q", got, want)
		}
	}
	for _, want := range []string{"busy", strings.Repeat("r", 300)} {
		if got := recv(onlyA); got != want {
			t.Fatalf("subscriber to a got %q, want %q", got, want)
		}
	}
}

func TestPubSocketDoesNotWaitForASubscriberThatDoesNotRead(t *testing.T) {
	p, err := ListenPub("tcp://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	stalled := dialRaw(t, p, "SUB", "")
	stalled.c.Write(appendFrame(nil, 0, []byte{1})) // subscribe to everything
	// Wait until the subscription is in, then stop reading.
	for {
		p.SendFrames([][]byte{[]byte("probe")})
		stalled.c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := stalled.readMessage(); err == nil {
			break
		}
		stalled.r.Reset(stalled.c) // drop a partly read frame
	}
	healthy := dialSub(t, p, "tcp://"+p.Addr().String(), "")
	big := make([]byte, 256<<10)
	const total = 60
	done := make(chan error, 1)
	go func() {
		for i := 0; i < total; i++ {
			if err := p.SendFrames([][]byte{[]byte("t"), []byte(fmt.Sprint(i)), big}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	// The healthy subscriber gets every message while the other one
	// reads nothing.
	for i := 0; i < total; i++ {
		m, err := healthy.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Frames[0]) == "probe" || (len(m.Frames) == 2 && string(m.Frames[1]) == "probe") {
			i--
			continue
		}
		if string(m.Frames[1]) != fmt.Sprint(i) {
			t.Fatalf("healthy subscriber got message %s, want %d", m.Frames[1], i)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(peerWriteTimeout / 2):
		t.Fatal("SendFrames waited for a subscriber that does not read")
	}
}
