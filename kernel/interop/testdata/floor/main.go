// Command floor is a benchmark reference, not a kernel: a minimal responder
// that speaks just enough of the Jupyter protocol for bench_kernels.py to
// measure the floor of a client's round trip. It answers every
// execute_request, without evaluating anything, with the five messages
// gopherlab sends for a trivial cell (iopub status busy and execute_input
// in one write, execute_result "2", the shell execute_reply, iopub status
// idle), signed and framed by gopherlab's kernel/wire as the kernel does.
// What a client measures against it is the client's own cost plus the
// transport; the difference to gopherlab is the kernel's work.
//
// It also answers kernel_info_request and shutdown_request and echoes the
// heartbeat, so that jupyter_client's KernelManager can start and stop it
// from a kernelspec (kernel/interop writes one for the benchmark). It is
// built only by that benchmark and never shipped.
//
//	floor CONNECTION_FILE
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"os"

	"github.com/google/uuid"

	"github.com/gopherlab/gopherlab/kernel/wire"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: floor CONNECTION_FILE")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		log.Fatalf("floor: %v", err)
	}
}

// responder holds the bound sockets.
type responder struct {
	session                     string
	shell, control, iopub, stdn *wire.Socket
	count                       int // execution count (shell goroutine only)
}

func run(connFile string) error {
	ci, err := wire.ReadConnectionFile(connFile)
	if err != nil {
		return err
	}
	signer, err := wire.NewSigner(ci.SignatureScheme, ci.Key)
	if err != nil {
		return err
	}
	r := &responder{session: uuid.NewString()}
	for _, sp := range []struct {
		ch  wire.Channel
		dst **wire.Socket
	}{{wire.Shell, &r.shell}, {wire.Control, &r.control}, {wire.Stdin, &r.stdn}} {
		rs, err := wire.ListenRouter(ci.Endpoint(sp.ch))
		if err != nil {
			return fmt.Errorf("%s: %w", sp.ch, err)
		}
		*sp.dst = wire.NewRouterSocket(rs, signer)
	}
	pub, err := wire.ListenPub(ci.Endpoint(wire.IOPub))
	if err != nil {
		return fmt.Errorf("%s: %w", wire.IOPub, err)
	}
	r.iopub = wire.NewPubSocket(pub, signer)
	hb, err := wire.ListenRouter(ci.Endpoint(wire.HB))
	if err != nil {
		return fmt.Errorf("%s: %w", wire.HB, err)
	}
	go func() {
		for {
			m, err := hb.Recv()
			if err != nil {
				return
			}
			hb.SendFrames(m)
		}
	}()
	go r.serve(r.control)
	r.serve(r.shell)
	return nil
}

// serve answers the requests that arrive on sock until it fails.
func (r *responder) serve(sock *wire.Socket) {
	for {
		m, err := sock.Recv()
		if wire.IsDecodeError(err) {
			log.Printf("floor: %v", err)
			continue
		}
		if err != nil {
			return
		}
		switch m.Type() {
		case "execute_request":
			if sock == r.shell {
				r.execute(m)
			}
		case "kernel_info_request":
			r.publish(r.iopubMsg("status", m, busy))
			r.reply(sock, m, "kernel_info_reply", kernelInfo)
			r.publish(r.iopubMsg("status", m, idle))
		case "shutdown_request":
			r.reply(sock, m, "shutdown_reply", json.RawMessage(`{"status":"ok","restart":false}`))
			os.Exit(0)
		default:
			log.Printf("floor: %s ignored", m.Type())
		}
	}
}

var (
	busy       = json.RawMessage(`{"execution_state":"busy"}`)
	idle       = json.RawMessage(`{"execution_state":"idle"}`)
	kernelInfo = json.RawMessage(`{"status":"ok","protocol_version":"5.3","implementation":"floor",` +
		`"implementation_version":"0","language_info":{"name":"go","version":"","mimetype":"text/x-go",` +
		`"file_extension":".go"},"banner":"benchmark reference responder, not a kernel","help_links":[]}`)
)

// execute answers an execute_request as gopherlab does for `1+1`, without
// evaluating its code.
func (r *responder) execute(m *wire.Message) {
	var c struct {
		Code string `json:"code"`
	}
	if err := m.Decode(&c); err != nil {
		log.Printf("floor: %v", err)
	}
	r.count++
	r.publish(r.iopubMsg("status", m, busy),
		r.iopubMsg("execute_input", m, map[string]any{"code": c.Code, "execution_count": r.count}))
	r.publish(r.iopubMsg("execute_result", m, map[string]any{
		"execution_count": r.count, "data": map[string]string{"text/plain": "2"}, "metadata": map[string]any{},
	}))
	r.reply(r.shell, m, "execute_reply", map[string]any{
		"status": "ok", "execution_count": r.count, "user_expressions": map[string]any{}, "payload": []any{},
	})
	r.publish(r.iopubMsg("status", m, idle))
}

func (r *responder) iopubMsg(msgType string, parent *wire.Message, content any) *wire.Message {
	m, err := wire.NewMessage(msgType, r.session, nil, content)
	if err != nil {
		log.Fatalf("floor: %v", err)
	}
	m.SetParent(parent)
	m.Identities = [][]byte{[]byte("kernel." + r.session + "." + msgType)}
	return m
}

func (r *responder) publish(ms ...*wire.Message) {
	if err := r.iopub.SendBatch(ms...); err != nil {
		log.Printf("floor: iopub: %v", err)
	}
}

func (r *responder) reply(sock *wire.Socket, parent *wire.Message, msgType string, content any) {
	m, err := wire.NewMessage(msgType, r.session, parent, content)
	if err != nil {
		log.Fatalf("floor: %v", err)
	}
	if err := sock.Send(m); err != nil {
		log.Printf("floor: %s: %v", msgType, err)
	}
}
