package server

import (
	"encoding/json"
	"sync"

	"github.com/gopherlab/gopherlab/kernel/wire"
)

// CommTarget is called on the shell goroutine when a frontend opens a comm
// for a registered target name. data is the comm_open data. It may set
// OnMessage and OnClose on c and send on it.
type CommTarget func(c *Comm, data json.RawMessage)

// Comm is one open comm between the kernel and a frontend (ipywidgets-style
// messaging on comm_open / comm_msg / comm_close).
type Comm struct {
	ID     string // comm_id chosen by the frontend
	Target string // target_name

	// OnMessage, when set, receives the data of each comm_msg.
	OnMessage func(data json.RawMessage)
	// OnClose, when set, is called when the frontend closes the comm.
	OnClose func(data json.RawMessage)

	s      *Server
	mu     sync.Mutex
	parent *wire.Message // the request messages from this comm answer to
}

func (c *Comm) setParent(m *wire.Message) {
	c.mu.Lock()
	c.parent = m
	c.mu.Unlock()
}

func (c *Comm) currentParent() *wire.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.parent
}

// Send publishes a comm_msg with data to the frontends.
func (c *Comm) Send(data any) {
	c.s.publish("comm_msg", c.currentParent(), map[string]any{"comm_id": c.ID, "data": data})
}

// Close publishes comm_close and forgets the comm.
func (c *Comm) Close(data any) {
	c.s.comms.remove(c.ID)
	c.s.publish("comm_close", c.currentParent(), map[string]any{"comm_id": c.ID, "data": data})
}

type comms struct {
	mu      sync.Mutex
	targets map[string]CommTarget
	open    map[string]*Comm
}

func (cs *comms) init() {
	cs.targets = map[string]CommTarget{}
	cs.open = map[string]*Comm{}
}

func (cs *comms) remove(id string) {
	cs.mu.Lock()
	delete(cs.open, id)
	cs.mu.Unlock()
}

// RegisterCommTarget makes comm_open requests for name call t; a nil t
// unregisters it. Without a registered target, comm_open is answered with
// comm_close, as ipykernel does.
func (s *Server) RegisterCommTarget(name string, t CommTarget) {
	s.comms.mu.Lock()
	defer s.comms.mu.Unlock()
	if t == nil {
		delete(s.comms.targets, name)
		return
	}
	s.comms.targets[name] = t
}

type commContent struct {
	CommID     string          `json:"comm_id"`
	TargetName string          `json:"target_name"`
	Data       json.RawMessage `json:"data"`
}

func (s *Server) commOpen(m *wire.Message) {
	var c commContent
	if err := m.Decode(&c); err != nil || c.CommID == "" {
		s.log.Printf("comm_open: bad content: %v", err)
		return
	}
	s.comms.mu.Lock()
	t := s.comms.targets[c.TargetName]
	var comm *Comm
	if t != nil {
		comm = &Comm{ID: c.CommID, Target: c.TargetName, s: s, parent: m}
		s.comms.open[c.CommID] = comm
	}
	s.comms.mu.Unlock()
	if t == nil {
		s.log.Printf("comm_open: no target %q, closing comm %s", c.TargetName, c.CommID)
		s.publish("comm_close", m, map[string]any{"comm_id": c.CommID, "data": map[string]any{}})
		return
	}
	t(comm, c.Data)
}

func (s *Server) lookupComm(id string) *Comm {
	s.comms.mu.Lock()
	defer s.comms.mu.Unlock()
	return s.comms.open[id]
}

func (s *Server) commMsg(m *wire.Message) {
	var c commContent
	if err := m.Decode(&c); err != nil {
		s.log.Printf("comm_msg: %v", err)
		return
	}
	comm := s.lookupComm(c.CommID)
	if comm == nil {
		s.log.Printf("comm_msg: unknown comm %q", c.CommID)
		return
	}
	comm.setParent(m)
	if comm.OnMessage != nil {
		comm.OnMessage(c.Data)
	}
}

func (s *Server) commClose(m *wire.Message) {
	var c commContent
	if err := m.Decode(&c); err != nil {
		s.log.Printf("comm_close: %v", err)
		return
	}
	comm := s.lookupComm(c.CommID)
	if comm == nil {
		s.log.Printf("comm_close: unknown comm %q", c.CommID)
		return
	}
	s.comms.remove(c.CommID)
	if comm.OnClose != nil {
		comm.OnClose(c.Data)
	}
}

func (s *Server) commInfo(sock *wire.Socket, m *wire.Message) {
	var c struct {
		TargetName string `json:"target_name"`
	}
	_ = m.Decode(&c)
	out := map[string]any{}
	s.comms.mu.Lock()
	for id, comm := range s.comms.open {
		if c.TargetName == "" || c.TargetName == comm.Target {
			out[id] = map[string]string{"target_name": comm.Target}
		}
	}
	s.comms.mu.Unlock()
	s.reply(sock, m, "comm_info_reply", map[string]any{"status": "ok", "comms": out})
}
