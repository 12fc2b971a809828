// Package server is the gopherlab Jupyter kernel: it binds the five channels
// of a connection file over ZMQ, answers every request of messaging protocol
// 5.3 and runs cells through a cell.Evaluator, publishing their output on
// iopub. It knows nothing of how Go code is evaluated.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/gopherlab/gopherlab/kernel/cell"
	"github.com/gopherlab/gopherlab/kernel/history"
	"github.com/gopherlab/gopherlab/kernel/wire"
)

// Version is the implementation_version reported in kernel_info_reply. The
// build may set it with -ldflags "-X github.com/gopherlab/gopherlab/kernel/server.Version=...".
var Version = "0.1.0-dev"

// Options configures a Server. The zero value works: history is kept in
// memory and logs go to stderr.
type Options struct {
	// History stores inputs for history_request; nil keeps this session's
	// inputs in memory only.
	History *history.Store
	// Logger receives protocol diagnostics (dropped messages, unknown
	// requests). nil logs to stderr.
	Logger *log.Logger
	// Banner is shown by consoles; empty uses a default.
	Banner string
	// Session is the kernel's session id in message headers; empty picks a
	// random one.
	Session string
}

// Server is a running kernel bound to a connection file's sockets.
type Server struct {
	ci      *wire.ConnectionInfo
	ev      cell.Evaluator
	hist    *history.Store
	log     *log.Logger
	banner  string
	session string

	shell, control, stdin, iopub *wire.Socket
	hb                           *wire.RouterSocket

	ctx    context.Context
	cancel context.CancelFunc

	wg sync.WaitGroup

	execCount int // touched only by the shell goroutine
	// pendingHistory is the input of the cell that just ran, stored once
	// its idle status is out (shell goroutine only).
	pendingHistory *history.Entry

	runMu     sync.Mutex
	runCancel context.CancelFunc // cancels the running cell; nil when idle

	inputMu sync.Mutex         // one input_request at a time
	inputCh chan *wire.Message // input_reply messages from stdin

	comms comms

	doneOnce sync.Once
	done     chan struct{}
	restart  bool
}

// New binds the sockets described by ci and returns a server ready to
// Serve. ev runs the cells; the server does not close it.
func New(ci *wire.ConnectionInfo, ev cell.Evaluator, opts Options) (*Server, error) {
	if ev == nil {
		return nil, errors.New("server: nil evaluator")
	}
	if err := ci.Validate(); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	signer, err := wire.NewSigner(ci.SignatureScheme, ci.Key)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s := &Server{
		ci: ci, ev: ev, hist: opts.History, log: opts.Logger, banner: opts.Banner, session: opts.Session,
		inputCh: make(chan *wire.Message, 1),
		done:    make(chan struct{}),
	}
	s.comms.init()
	if s.hist == nil {
		s.hist = history.NewMemory()
	}
	if s.log == nil {
		s.log = log.New(os.Stderr, "gopherlab: ", log.LstdFlags)
	}
	if s.banner == "" {
		s.banner = fmt.Sprintf("gopherlab %s — Go %s kernel for Jupyter", Version, goVersion())
	}
	if s.session == "" {
		s.session = uuid.NewString()
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	// shell, control, stdin and heartbeat are gopherlab's own ROUTER
	// sockets and iopub its own PUB socket: they write on the calling
	// goroutine instead of handing each message to writer goroutines (see
	// wire.RouterSocket and wire.PubSocket).
	for _, sp := range []struct {
		ch  wire.Channel
		dst **wire.Socket
	}{
		{wire.Shell, &s.shell},
		{wire.Control, &s.control},
		{wire.Stdin, &s.stdin},
	} {
		r, err := wire.ListenRouter(ci.Endpoint(sp.ch))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("server: %s channel: %w", sp.ch, err)
		}
		*sp.dst = wire.NewRouterSocket(r, signer)
	}
	pub, err := wire.ListenPub(ci.Endpoint(wire.IOPub))
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("server: %s channel: %w", wire.IOPub, err)
	}
	s.iopub = wire.NewPubSocket(pub, signer)
	// The heartbeat is a ROUTER that echoes every message back to its
	// sender, as ipykernel does; REQ clients see a REP.
	if s.hb, err = wire.ListenRouter(ci.Endpoint(wire.HB)); err != nil {
		s.Close()
		return nil, fmt.Errorf("server: %s channel: %w", wire.HB, err)
	}
	return s, nil
}

func goVersion() string { return strings.TrimPrefix(runtime.Version(), "go") }

// Session returns the kernel's session id.
func (s *Server) Session() string { return s.session }

// Serve publishes status "starting" and answers requests until a
// shutdown_request arrives or ctx is canceled. It reports whether the
// client asked for a restart. Serve closes nothing; call Close after.
func (s *Server) Serve(ctx context.Context) (restart bool, err error) {
	s.publish("status", nil, map[string]string{"execution_state": "starting"})
	s.wg.Add(3)
	go s.heartbeat()
	go s.readControl()
	go s.readStdin()
	// The shell loop is not waited for: a cell that ignores interrupts must
	// not keep a shutdown_request from taking effect.
	go s.shellLoop()
	select {
	case <-ctx.Done():
		s.Interrupt()
		return false, ctx.Err()
	case <-s.done:
		return s.restart, nil
	}
}

// shellLoop serves shell requests one at a time, in order. It takes them
// straight from the shell socket, so that a request reaches it with one
// goroutine hand-off (from the socket's reader).
func (s *Server) shellLoop() {
	in := s.shell.Incoming()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.done:
			return
		case frames := <-in:
			if m := s.decodeShell(frames); m != nil {
				s.handle(s.shell, wire.Shell, m)
			}
		}
	}
}

// decodeShell decodes a message received on shell, or logs why it is
// dropped and returns nil.
func (s *Server) decodeShell(frames [][]byte) *wire.Message {
	m, err := s.shell.DecodeFrames(frames)
	if err != nil {
		s.log.Printf("%s: %v", wire.Shell, err)
		return nil
	}
	return m
}

// Interrupt cancels the running cell's context, as interrupt_request and
// SIGINT do. The kernel keeps running and keeps its state.
func (s *Server) Interrupt() {
	s.runMu.Lock()
	if s.runCancel != nil {
		s.runCancel()
	}
	s.runMu.Unlock()
}

// Close stops the socket goroutines and closes the sockets.
func (s *Server) Close() error {
	// Let the iopub writer flush the last status messages.
	time.Sleep(20 * time.Millisecond)
	s.cancel()
	var first error
	for _, zs := range []interface{ Close() error }{s.shell, s.control, s.stdin, s.iopub} {
		if zs == nil || zs == (*wire.Socket)(nil) {
			continue
		}
		if err := zs.Close(); err != nil && first == nil {
			first = err
		}
	}
	if s.hb != nil {
		s.hb.Close()
	}
	s.wg.Wait()
	if s.ci.Transport == "ipc" {
		for _, ch := range []wire.Channel{wire.Shell, wire.IOPub, wire.Stdin, wire.Control, wire.HB} {
			os.Remove(strings.TrimPrefix(s.ci.Endpoint(ch), "ipc://"))
		}
	}
	return first
}

func (s *Server) finish(restart bool) {
	s.doneOnce.Do(func() {
		s.restart = restart
		close(s.done)
	})
}

func (s *Server) heartbeat() {
	defer s.wg.Done()
	for {
		m, err := s.hb.Recv()
		if err != nil {
			return
		}
		if err := s.hb.SendFrames(m); err != nil && s.ctx.Err() == nil {
			s.log.Printf("heartbeat: %v", err)
		}
	}
}

// recvLoop receives messages from sock until it closes, logging and
// dropping everything that fails to decode or verify.
func (s *Server) recvLoop(sock *wire.Socket, ch wire.Channel, fn func(*wire.Message)) {
	defer s.wg.Done()
	for {
		m, err := sock.Recv()
		if err != nil {
			if wire.IsDecodeError(err) {
				s.log.Printf("%s: %v", ch, err)
				continue
			}
			if s.ctx.Err() == nil {
				s.log.Printf("%s: receive: %v", ch, err)
			}
			return
		}
		fn(m)
	}
}

// readControl serves control requests on their own goroutine, so that
// interrupt, shutdown and kernel_info are answered while a cell runs.
func (s *Server) readControl() {
	s.recvLoop(s.control, wire.Control, func(m *wire.Message) { s.handle(s.control, wire.Control, m) })
}

func (s *Server) readStdin() {
	s.recvLoop(s.stdin, wire.Stdin, func(m *wire.Message) {
		if m.Type() != "input_reply" {
			s.log.Printf("stdin: ignoring %s", m.Type())
			return
		}
		select {
		case s.inputCh <- m:
		default:
			s.log.Printf("stdin: input_reply with no pending input_request, dropped")
		}
	})
}

// publish sends a message on iopub with parent as parent header.
func (s *Server) publish(msgType string, parent *wire.Message, content any) {
	s.publishAll(s.iopubMessage(msgType, parent, content))
}

// iopubMessage builds an iopub message with parent as parent header, or
// logs why it cannot and returns nil.
func (s *Server) iopubMessage(msgType string, parent *wire.Message, content any) *wire.Message {
	m, err := wire.NewMessage(msgType, s.session, nil, content)
	if err != nil {
		s.log.Printf("iopub %s: %v", msgType, err)
		return nil
	}
	if parent != nil {
		m.SetParent(parent)
	}
	m.Identities = [][]byte{[]byte("kernel." + s.session + "." + msgType)}
	return m
}

// publishAll sends messages built by iopubMessage (nil ones are skipped)
// in order, in one write per subscriber.
func (s *Server) publishAll(ms ...*wire.Message) {
	ms = slices.DeleteFunc(ms, func(m *wire.Message) bool { return m == nil })
	if len(ms) == 0 {
		return
	}
	if err := s.iopub.SendBatch(ms...); err != nil && s.ctx.Err() == nil {
		s.log.Printf("iopub %s: %v", ms[0].Type(), err)
	}
}

// reply sends the reply to request m on sock.
func (s *Server) reply(sock *wire.Socket, m *wire.Message, msgType string, content any) {
	r, err := wire.NewMessage(msgType, s.session, m, content)
	if err != nil {
		s.log.Printf("%s: %v", msgType, err)
		return
	}
	if err := sock.Send(r); err != nil && s.ctx.Err() == nil {
		s.log.Printf("%s: %v", msgType, err)
	}
}

func (s *Server) status(state string, parent *wire.Message) {
	s.publish("status", parent, statusContent(state))
}

// statusContent is the content of a status message, without marshaling
// the common states.
func statusContent(state string) any {
	switch state {
	case "busy":
		return json.RawMessage(`{"execution_state":"busy"}`)
	case "idle":
		return json.RawMessage(`{"execution_state":"idle"}`)
	}
	return map[string]string{"execution_state": state}
}

// handle answers one request, between status busy and idle. An
// execute_request on shell publishes its busy status itself, together with
// execute_input.
func (s *Server) handle(sock *wire.Socket, ch wire.Channel, m *wire.Message) {
	if ch != wire.Shell || m.Type() != "execute_request" {
		s.status("busy", m)
	}
	defer func() {
		s.status("idle", m)
		if ch == wire.Shell {
			s.storeHistory()
		}
	}()
	defer func() {
		if p := recover(); p != nil {
			s.log.Printf("%s %s: internal error: %v", ch, m.Type(), p)
		}
	}()
	switch t := m.Type(); t {
	case "kernel_info_request":
		s.reply(sock, m, "kernel_info_reply", s.kernelInfo())
	case "execute_request":
		if ch != wire.Shell {
			s.log.Printf("%s: execute_request is only served on shell, ignored", ch)
			return
		}
		s.execute(m)
	case "is_complete_request":
		s.isComplete(sock, m)
	case "complete_request":
		s.complete(sock, m)
	case "inspect_request":
		s.inspect(sock, m)
	case "history_request":
		s.history(sock, m)
	case "comm_info_request":
		s.commInfo(sock, m)
	case "comm_open":
		s.commOpen(m)
	case "comm_msg":
		s.commMsg(m)
	case "comm_close":
		s.commClose(m)
	case "shutdown_request":
		var c struct {
			Restart bool `json:"restart"`
		}
		if err := m.Decode(&c); err != nil {
			s.log.Printf("%s: %v", ch, err)
		}
		content := map[string]any{"status": "ok", "restart": c.Restart}
		s.reply(sock, m, "shutdown_reply", content)
		s.publish("shutdown_reply", m, content)
		s.Interrupt()
		s.finish(c.Restart)
	case "interrupt_request":
		s.Interrupt()
		s.reply(sock, m, "interrupt_reply", map[string]string{"status": "ok"})
	default:
		s.log.Printf("%s: unknown message type %q, ignored", ch, t)
	}
}

type link struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

func (s *Server) kernelInfo() map[string]any {
	return map[string]any{
		"status":                 "ok",
		"protocol_version":       wire.ProtocolVersion,
		"implementation":         "gopherlab",
		"implementation_version": Version,
		"language_info": map[string]any{
			"name":            "go",
			"version":         goVersion(),
			"mimetype":        "text/x-go",
			"file_extension":  ".go",
			"pygments_lexer":  "go",
			"codemirror_mode": "go",
		},
		"banner": s.banner,
		"help_links": []link{
			{"Go documentation", "https://go.dev/doc/"},
			{"Go standard library", "https://pkg.go.dev/std"},
			{"gopherlab", "https://github.com/gopherlab/gopherlab"},
		},
		"debugger": false,
	}
}
