// Package client is a Jupyter client written in Go: it connects to a
// kernel's connection file over ZMQ, signs and sends requests on shell,
// control and stdin, follows iopub and collects what each request produced.
// gopherlab uses it to run notebooks headlessly, in tests and in benchmarks.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"sync"
	"time"

	"github.com/go-zeromq/zmq4"
	"github.com/google/uuid"

	"github.com/gopherlab/gopherlab/kernel/wire"
)

// Options configures a Client. The zero value works.
type Options struct {
	// Session is the client session id; empty picks a random one. It is
	// also the ZMQ identity of the shell and stdin sockets, so that the
	// kernel's input_request reaches this client.
	Session string
	// Input answers input_request messages. nil makes Execute send
	// allow_stdin false.
	Input func(prompt string, password bool) (string, error)
	// DialTimeout bounds how long Dial waits for the kernel's sockets
	// (default 10s).
	DialTimeout time.Duration
}

// Client is a connection to one kernel. Its methods are safe for
// concurrent use.
type Client struct {
	ci      *wire.ConnectionInfo
	opts    Options
	session string

	shell, control, stdin, iopub *wire.Socket
	hb                           zmq4.Socket
	hbMu                         sync.Mutex
	hbEcho                       chan []byte

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	calls map[string]*call
	subs  map[int]chan *wire.Message
	subID int
}

// call tracks one request: its reply and the iopub messages it caused.
type call struct {
	ch     wire.Channel
	reply  chan *wire.Message // capacity 1
	idle   chan struct{}      // closed on status idle
	iopub  []*wire.Message    // guarded by Client.mu
	isIdle bool
}

// Dial connects to the kernel described by ci. The kernel may still be
// starting; connections are retried until DialTimeout.
func Dial(ctx context.Context, ci *wire.ConnectionInfo, opts Options) (*Client, error) {
	if err := ci.Validate(); err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	signer, err := wire.NewSigner(ci.SignatureScheme, ci.Key)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if opts.Session == "" {
		opts.Session = uuid.NewString()
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	c := &Client{ci: ci, opts: opts, session: opts.Session, calls: map[string]*call{}, subs: map[int]chan *wire.Message{}, hbEcho: make(chan []byte, 1)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	const retry = 2 * time.Millisecond
	sockOpts := []zmq4.Option{
		zmq4.WithLogger(log.New(io.Discard, "", 0)),
		zmq4.WithDialerRetry(retry),
		zmq4.WithDialerMaxRetries(int(opts.DialTimeout / retry)),
	}
	id := zmq4.WithID(zmq4.SocketIdentity(opts.Session))
	dial := func(ch wire.Channel, zs zmq4.Socket) (zmq4.Socket, error) {
		if err := zs.Dial(ci.ZMQEndpoint(ch)); err != nil {
			zs.Close()
			return nil, fmt.Errorf("client: %s channel: %w", ch, err)
		}
		return zs, nil
	}
	type spec struct {
		ch  wire.Channel
		zs  zmq4.Socket
		dst **wire.Socket
	}
	sub := zmq4.NewSub(c.ctx, sockOpts...)
	if err := sub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		return nil, err
	}
	for _, sp := range []spec{
		{wire.IOPub, sub, &c.iopub},
		{wire.Shell, zmq4.NewDealer(c.ctx, append(sockOpts, id)...), &c.shell},
		{wire.Stdin, zmq4.NewDealer(c.ctx, append(sockOpts, id)...), &c.stdin},
		{wire.Control, zmq4.NewDealer(c.ctx, sockOpts...), &c.control},
	} {
		zs, err := dial(sp.ch, sp.zs)
		if err != nil {
			c.Close()
			return nil, err
		}
		*sp.dst = wire.NewSocket(zs, signer)
	}
	if c.hb, err = dial(wire.HB, zmq4.NewDealer(c.ctx, sockOpts...)); err != nil {
		c.Close()
		return nil, err
	}
	c.wg.Add(5)
	go c.readReplies(c.shell, wire.Shell)
	go c.readReplies(c.control, wire.Control)
	go c.readStdin()
	go c.readIOPub()
	go c.readHB()
	return c, nil
}

// Session returns the client's session id.
func (c *Client) Session() string { return c.session }

// Close disconnects from the kernel. It does not shut the kernel down.
func (c *Client) Close() error {
	c.cancel()
	for _, s := range []*wire.Socket{c.shell, c.control, c.stdin, c.iopub} {
		if s != nil {
			s.Close()
		}
	}
	if c.hb != nil {
		c.hb.Close()
	}
	c.wg.Wait()
	return nil
}

func (c *Client) readReplies(sock *wire.Socket, ch wire.Channel) {
	defer c.wg.Done()
	for {
		m, err := sock.Recv()
		if err != nil {
			if wire.IsDecodeError(err) {
				continue
			}
			return
		}
		c.mu.Lock()
		cl := c.calls[m.ParentHeader.MsgID]
		c.mu.Unlock()
		if cl != nil {
			select {
			case cl.reply <- m:
			default:
			}
		}
	}
}

func (c *Client) readStdin() {
	defer c.wg.Done()
	for {
		m, err := c.stdin.Recv()
		if err != nil {
			if wire.IsDecodeError(err) {
				continue
			}
			return
		}
		if m.Type() != "input_request" {
			continue
		}
		var req struct {
			Prompt   string `json:"prompt"`
			Password bool   `json:"password"`
		}
		_ = m.Decode(&req)
		go func() {
			value := ""
			if c.opts.Input != nil {
				v, err := c.opts.Input(req.Prompt, req.Password)
				if err == nil {
					value = v
				}
			}
			r, err := wire.NewMessage("input_reply", c.session, m, map[string]string{"value": value})
			if err == nil {
				c.stdin.Send(r)
			}
		}()
	}
}

func (c *Client) readIOPub() {
	defer c.wg.Done()
	for {
		m, err := c.iopub.Recv()
		if err != nil {
			if wire.IsDecodeError(err) {
				continue
			}
			return
		}
		c.mu.Lock()
		if cl := c.calls[m.ParentHeader.MsgID]; cl != nil && !cl.isIdle {
			cl.iopub = append(cl.iopub, m)
			if m.Type() == "status" && executionState(m) == "idle" {
				cl.isIdle = true
				close(cl.idle)
			}
		}
		for _, s := range c.subs {
			select {
			case s <- m:
			default: // a subscriber that does not keep up loses messages
			}
		}
		c.mu.Unlock()
	}
}

func (c *Client) readHB() {
	defer c.wg.Done()
	for {
		m, err := c.hb.Recv()
		if err != nil {
			return
		}
		payload := []byte{}
		if n := len(m.Frames); n > 0 {
			payload = m.Frames[n-1]
		}
		select {
		case c.hbEcho <- payload:
		default:
		}
	}
}

func executionState(m *wire.Message) string {
	var s struct {
		State string `json:"execution_state"`
	}
	_ = m.Decode(&s)
	return s.State
}

// Subscribe returns every iopub message this client receives from now on,
// whichever client caused it, until cancel is called. The channel holds up
// to 4096 messages; a slow reader loses the rest.
func (c *Client) Subscribe() (msgs <-chan *wire.Message, cancel func()) {
	ch := make(chan *wire.Message, 4096)
	c.mu.Lock()
	c.subID++
	id := c.subID
	c.subs[id] = ch
	c.mu.Unlock()
	return ch, func() {
		c.mu.Lock()
		delete(c.subs, id)
		c.mu.Unlock()
	}
}

func (c *Client) socket(ch wire.Channel) (*wire.Socket, error) {
	switch ch {
	case wire.Shell:
		return c.shell, nil
	case wire.Control:
		return c.control, nil
	case wire.Stdin:
		return c.stdin, nil
	}
	return nil, fmt.Errorf("client: cannot send requests on %s", ch)
}

// Send sends a request of msgType on ch and starts tracking its reply and
// iopub messages; finish with Reply, Idle, or Forget.
func (c *Client) Send(ch wire.Channel, msgType string, content any) (*wire.Message, error) {
	m, err := wire.NewMessage(msgType, c.session, nil, content)
	if err != nil {
		return nil, err
	}
	return m, c.SendMessage(ch, m)
}

// SendMessage sends a prepared message on ch, tracking it like Send.
func (c *Client) SendMessage(ch wire.Channel, m *wire.Message) error {
	sock, err := c.socket(ch)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.calls[m.Header.MsgID] = &call{ch: ch, reply: make(chan *wire.Message, 1), idle: make(chan struct{})}
	c.mu.Unlock()
	if err := sock.Send(m); err != nil {
		c.Forget(m.Header.MsgID)
		return fmt.Errorf("client: send %s: %w", m.Type(), err)
	}
	return nil
}

// Socket returns the raw socket of ch, for tests that send malformed frames.
func (c *Client) Socket(ch wire.Channel) *wire.Socket {
	s, _ := c.socket(ch)
	if ch == wire.IOPub {
		return c.iopub
	}
	return s
}

// Forget stops tracking request msgID.
func (c *Client) Forget(msgID string) {
	c.mu.Lock()
	delete(c.calls, msgID)
	c.mu.Unlock()
}

func (c *Client) lookup(msgID string) (*call, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl := c.calls[msgID]
	if cl == nil {
		return nil, fmt.Errorf("client: request %s is not tracked", msgID)
	}
	return cl, nil
}

// ErrClosed is returned when the client was closed while waiting.
var ErrClosed = errors.New("client: closed")

// Reply waits for the reply to request msgID.
func (c *Client) Reply(ctx context.Context, msgID string) (*wire.Message, error) {
	cl, err := c.lookup(msgID)
	if err != nil {
		return nil, err
	}
	select {
	case r := <-cl.reply:
		cl.reply <- r // keep it for later callers
		return r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.ctx.Done():
		return nil, ErrClosed
	}
}

// Idle waits for the kernel's status idle for request msgID and returns
// the iopub messages the request caused, in order (busy first, idle last).
func (c *Client) Idle(ctx context.Context, msgID string) ([]*wire.Message, error) {
	cl, err := c.lookup(msgID)
	if err != nil {
		return nil, err
	}
	select {
	case <-cl.idle:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.ctx.Done():
		return nil, ErrClosed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*wire.Message(nil), cl.iopub...), nil
}

// Request sends a request, waits for its reply and its status idle, and
// returns both. The request is forgotten afterwards.
func (c *Client) Request(ctx context.Context, ch wire.Channel, msgType string, content any) (reply *wire.Message, iopub []*wire.Message, err error) {
	m, err := c.Send(ch, msgType, content)
	if err != nil {
		return nil, nil, err
	}
	defer c.Forget(m.Header.MsgID)
	if reply, err = c.Reply(ctx, m.Header.MsgID); err != nil {
		return nil, nil, fmt.Errorf("client: waiting for reply to %s: %w", msgType, err)
	}
	if iopub, err = c.Idle(ctx, m.Header.MsgID); err != nil {
		return reply, nil, fmt.Errorf("client: waiting for idle after %s: %w", msgType, err)
	}
	return reply, iopub, nil
}

// KernelInfo sends kernel_info_request on shell and decodes the reply. It
// does not wait for the iopub status, which a just-connected client may
// miss; see WaitReady.
func (c *Client) KernelInfo(ctx context.Context) (*KernelInfo, error) {
	m, err := c.Send(wire.Shell, "kernel_info_request", nil)
	if err != nil {
		return nil, err
	}
	defer c.Forget(m.Header.MsgID)
	r, err := c.Reply(ctx, m.Header.MsgID)
	if err != nil {
		return nil, fmt.Errorf("client: waiting for kernel_info_reply: %w", err)
	}
	var ki KernelInfo
	return &ki, r.Decode(&ki)
}

// KernelInfo is the content of kernel_info_reply.
type KernelInfo struct {
	Status                string          `json:"status"`
	ProtocolVersion       string          `json:"protocol_version"`
	Implementation        string          `json:"implementation"`
	ImplementationVersion string          `json:"implementation_version"`
	LanguageInfo          json.RawMessage `json:"language_info"`
	Banner                string          `json:"banner"`
	HelpLinks             []struct {
		Text string `json:"text"`
		URL  string `json:"url"`
	} `json:"help_links"`
}

// WaitReady waits until the kernel answers kernel_info on shell and this
// client receives the iopub status of that request, which shows the iopub
// subscription is live (earlier iopub messages would be lost).
func (c *Client) WaitReady(ctx context.Context) error {
	for {
		m, err := c.Send(wire.Shell, "kernel_info_request", nil)
		if err != nil {
			return err
		}
		id := m.Header.MsgID
		attempt, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_, err = c.Reply(attempt, id)
		if err == nil {
			_, err = c.Idle(attempt, id)
		}
		cancel()
		c.Forget(id)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("client: kernel not ready: %w", ctx.Err())
		}
	}
}

// Heartbeat sends one ping on the heartbeat channel and waits for the echo.
func (c *Client) Heartbeat(ctx context.Context) error {
	c.hbMu.Lock()
	defer c.hbMu.Unlock()
	select {
	case <-c.hbEcho: // stale echo
	default:
	}
	ping := []byte(uuid.NewString())
	if err := c.hb.SendMulti(zmq4.NewMsgFrom([]byte{}, ping)); err != nil {
		return fmt.Errorf("client: heartbeat: %w", err)
	}
	for {
		select {
		case got := <-c.hbEcho:
			if string(got) == string(ping) {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("client: heartbeat: %w", ctx.Err())
		}
	}
}

// Shutdown sends shutdown_request on control and waits for the reply.
func (c *Client) Shutdown(ctx context.Context, restart bool) error {
	m, err := c.Send(wire.Control, "shutdown_request", map[string]bool{"restart": restart})
	if err != nil {
		return err
	}
	defer c.Forget(m.Header.MsgID)
	_, err = c.Reply(ctx, m.Header.MsgID)
	return err
}

// Interrupt sends interrupt_request on control and waits for the reply.
func (c *Client) Interrupt(ctx context.Context) error {
	_, _, err := c.Request(ctx, wire.Control, "interrupt_request", nil)
	return err
}
