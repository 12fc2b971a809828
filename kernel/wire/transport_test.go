package wire

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/go-zeromq/zmq4"
)

// countConn records every Write reaching the network.
type countConn struct {
	net.Conn
	writes [][]byte
}

func (c *countConn) Write(p []byte) (int, error) {
	c.writes = append(c.writes, append([]byte(nil), p...))
	return len(p), nil
}

func frame(more bool, body []byte) []byte {
	var flag byte
	if more {
		flag |= 0x01
	}
	if len(body) > 255 {
		h := []byte{flag | 0x02, 0, 0, 0, 0, 0, 0, 0, 0}
		n := uint64(len(body))
		for i := 8; i >= 1; i-- {
			h[i] = byte(n)
			n >>= 8
		}
		return append(h, body...)
	}
	return append([]byte{flag, byte(len(body))}, body...)
}

func TestBufConnWritesOneMessageAtATime(t *testing.T) {
	cc := &countConn{}
	c := newBufConn(cc)
	greeting := bytes.Repeat([]byte{0xff}, greetingLen)
	c.Write(greeting[:10])
	c.Write(greeting[10:])
	long := bytes.Repeat([]byte("x"), 300)
	msg1 := [][]byte{frame(true, []byte("id")), frame(true, nil), frame(true, long), frame(false, []byte("{}"))}
	cmd := append([]byte{0x04, 6}, []byte("\x05READY")...)
	// zmq4 writes header and body separately; split some headers too.
	var want []byte
	for _, f := range msg1 {
		want = append(want, f...)
		hdr := 2
		if f[0]&0x02 != 0 {
			hdr = 9
			c.Write(f[:3])
			c.Write(f[3:hdr])
		} else {
			c.Write(f[:hdr])
		}
		if len(f) > hdr {
			c.Write(f[hdr:])
		}
	}
	c.Write(cmd)
	if len(cc.writes) != 4 {
		t.Fatalf("%d network writes, want 4 (greeting x2, message, command)", len(cc.writes))
	}
	if !bytes.Equal(cc.writes[2], want) || !bytes.Equal(cc.writes[3], cmd) {
		t.Fatalf("bytes changed:\n%q\n%q", cc.writes[2], want)
	}
}

// TestBufferedTransportTalksToPlainZMQ checks that the buffered transport
// is the same ZMTP on the wire: a plain zmq4 tcp ROUTER and a buffered
// DEALER exchange multipart messages both ways.
func TestBufferedTransportTalksToPlainZMQ(t *testing.T) {
	ci, err := NewTCPConnectionInfo("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	router := zmq4.NewRouter(ctx)
	defer router.Close()
	if err := router.Listen(ci.Endpoint(Shell)); err != nil {
		t.Fatal(err)
	}
	dealer := zmq4.NewDealer(ctx, zmq4.WithID(zmq4.SocketIdentity("d1")))
	defer dealer.Close()
	if err := dealer.Dial(ci.ZMQEndpoint(Shell)); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("b"), 100000)
	for i := 0; i < 20; i++ {
		payload := []byte(fmt.Sprint(i))
		if err := dealer.SendMulti(zmq4.NewMsgFrom([]byte(Delimiter), payload, big)); err != nil {
			t.Fatal(err)
		}
		m, err := router.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Frames) != 4 || string(m.Frames[0]) != "d1" || !bytes.Equal(m.Frames[2], payload) || !bytes.Equal(m.Frames[3], big) {
			t.Fatalf("router got %d frames", len(m.Frames))
		}
		if err := router.Send(zmq4.NewMsgFrom([]byte("d1"), payload, []byte{})); err != nil {
			t.Fatal(err)
		}
		back, err := dealer.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if len(back.Frames) != 2 || !bytes.Equal(back.Frames[0], payload) {
			t.Fatalf("dealer got %q", back.Frames)
		}
	}
}
