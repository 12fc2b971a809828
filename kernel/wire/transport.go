package wire

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"

	"github.com/go-zeromq/zmq4"
	"github.com/go-zeromq/zmq4/transport"
)

// zmq4 reads every ZMTP frame header and body with its own read system call
// and writes ROUTER messages frame by frame, so one Jupyter message costs
// a dozen or more system calls on each side. gopherlab's Go client (the
// kernel's sockets are RouterSocket and PubSocket) uses these transports
// instead of zmq4's plain "tcp" and "ipc": the bytes on the wire
// are the same ZMTP, but reads go through a buffer and writes are gathered
// until the last frame of a message, so a message costs one read and one
// write.
const (
	bufferedTCP = "gopherlab-tcp"
	bufferedIPC = "gopherlab-ipc"
)

func init() {
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	must(zmq4.RegisterTransport(bufferedTCP, bufferedTransport{transport.New("tcp")}))
	must(zmq4.RegisterTransport(bufferedIPC, bufferedTransport{transport.New("unix")}))
}

// ZMQEndpoint returns the endpoint gopherlab's zmq4 sockets use for channel
// ch: the same address as Endpoint, on the buffered transport.
func (ci *ConnectionInfo) ZMQEndpoint(ch Channel) string {
	ep := ci.Endpoint(ch)
	if rest, ok := strings.CutPrefix(ep, "tcp://"); ok {
		return bufferedTCP + "://" + rest
	}
	if rest, ok := strings.CutPrefix(ep, "ipc://"); ok {
		return bufferedIPC + "://" + rest
	}
	return ep
}

type bufferedTransport struct{ transport.Transport }

func (t bufferedTransport) Dial(ctx context.Context, d transport.Dialer, addr string) (net.Conn, error) {
	c, err := t.Transport.Dial(ctx, d, addr)
	if err != nil {
		return nil, err
	}
	return newBufConn(c), nil
}

func (t bufferedTransport) Listen(ctx context.Context, addr string) (net.Listener, error) {
	l, err := t.Transport.Listen(ctx, addr)
	if err != nil {
		return nil, err
	}
	return bufListener{l}, nil
}

type bufListener struct{ net.Listener }

func (l bufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newBufConn(c), nil
}

// bufConn buffers reads, and gathers writes until a ZMTP frame without the
// MORE flag (the end of a message or a command) is complete.
type bufConn struct {
	net.Conn
	r *bufio.Reader

	mu       sync.Mutex
	greeting int    // greeting bytes still to pass through unparsed
	buf      []byte // pending output
	hdr      []byte // header bytes of the current frame seen so far
	body     uint64 // body bytes of the current frame still expected
	last     bool   // the current frame ends a message
	inBody   bool
}

const greetingLen = 64

func newBufConn(c net.Conn) *bufConn {
	return &bufConn{Conn: c, r: bufio.NewReaderSize(c, 64<<10), greeting: greetingLen}
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

func (c *bufConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	if c.greeting > 0 {
		k := min(c.greeting, len(p))
		if _, err := c.Conn.Write(p[:k]); err != nil {
			return 0, err
		}
		c.greeting -= k
		p = p[k:]
	}
	c.buf = append(c.buf, p...)
	// Walk the frames in p to find where a message ends.
	for len(p) > 0 {
		if c.inBody {
			k := min(uint64(len(p)), c.body)
			c.body -= k
			p = p[k:]
			if c.body == 0 {
				if err := c.endFrame(); err != nil {
					return 0, err
				}
			}
			continue
		}
		c.hdr = append(c.hdr, p[0])
		p = p[1:]
		flag := c.hdr[0]
		need := 2
		if flag&0x02 != 0 { // long frame: 8-byte size
			need = 9
		}
		if len(c.hdr) < need {
			continue
		}
		var size uint64
		for _, b := range c.hdr[1:need] {
			size = size<<8 | uint64(b)
		}
		c.last = flag&0x01 == 0 // no MORE flag (commands never have it)
		c.hdr = c.hdr[:0]
		c.body = size
		c.inBody = true
		if size == 0 {
			if err := c.endFrame(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (c *bufConn) endFrame() error {
	c.inBody = false
	if !c.last {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}
