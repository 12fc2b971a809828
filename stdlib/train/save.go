package train

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
)

// Model file layout: the magic line, a little-endian uint32 header length,
// the JSON header (architecture, weight shapes, compile settings), every
// weight as little-endian float32 in Weights order, then a CRC-32 (IEEE) of
// everything before it.
const modelMagic = "GOPHERLAB-TRAIN-MODEL v1\n"

type fileHeader struct {
	Layers  []fileLayer `json:"layers"`
	Inputs  []int       `json:"inputs"`
	Loss    string      `json:"loss,omitempty"`
	Metrics []string    `json:"metrics,omitempty"`
	Opt     string      `json:"optimizer,omitempty"`
	Seed    int64       `json:"seed"`
}

type fileLayer struct {
	Kind    string         `json:"kind"`
	Name    string         `json:"name"`
	Config  map[string]any `json:"config"`
	Inbound []int          `json:"inbound"`
	Params  []fileParam    `json:"params"`
}

type fileParam struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
}

// Save writes the model (architecture, weights and compile settings) to one
// file, atomically: a crash leaves either the old file or the new one.
func (m *Model) Save(path string) error {
	if !m.initialized {
		return fmt.Errorf("train: model has no weights yet (call Compile first)")
	}
	h := fileHeader{Inputs: m.inIdx, Seed: m.opts.Seed}
	if m.compiled {
		h.Loss, h.Metrics, h.Opt = m.opts.Loss, m.opts.Metrics, m.opts.Optimizer.Name()
	}
	for i, n := range m.nodes {
		fl := fileLayer{Kind: n.layer.Kind(), Name: n.layer.Name(), Config: n.layer.Config(), Inbound: m.preds[i]}
		for _, p := range n.layer.Params() {
			fl.Params = append(fl.Params, fileParam{Name: p.Name, Shape: p.Shape})
		}
		h.Layers = append(h.Layers, fl)
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return err
	}
	err = writeAtomic(path, func(f *os.File) error {
		crc := crc32.NewIEEE()
		w := bufio.NewWriter(io.MultiWriter(f, crc))
		w.WriteString(modelMagic)
		binary.Write(w, binary.LittleEndian, uint32(len(hdr)))
		w.Write(hdr)
		buf := make([]byte, 4)
		for _, wt := range m.Weights() {
			for _, v := range wt.Value {
				binary.LittleEndian.PutUint32(buf, math.Float32bits(v))
				w.Write(buf)
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		return binary.Write(f, binary.LittleEndian, crc.Sum32())
	})
	if err != nil {
		return fmt.Errorf("train: saving model to %s: %w", path, err)
	}
	return nil
}

// Load reads a model written by Save. If it was compiled when saved, it
// comes back compiled with the same loss and metrics and a fresh optimizer
// of the same kind.
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("train: loading model: %w", err)
	}
	m, err := decodeModel(data)
	if err != nil {
		return nil, fmt.Errorf("train: loading model %s: %w", path, err)
	}
	return m, nil
}

func decodeModel(data []byte) (*Model, error) {
	if len(data) < len(modelMagic)+8 || string(data[:len(modelMagic)]) != modelMagic {
		return nil, fmt.Errorf("not a gopherlab model file (bad magic)")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return nil, fmt.Errorf("checksum mismatch: file is truncated or corrupted")
	}
	r := bytes.NewReader(body[len(modelMagic):])
	var n uint32
	binary.Read(r, binary.LittleEndian, &n)
	if int(n) > r.Len() {
		return nil, fmt.Errorf("header length %d exceeds file size", n)
	}
	hdr := make([]byte, n)
	io.ReadFull(r, hdr)
	var h fileHeader
	if err := json.Unmarshal(hdr, &h); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	nodes := make([]*Node, len(h.Layers))
	for i, fl := range h.Layers {
		l, err := layerFromConfig(fl.Kind, fl.Config)
		if err != nil {
			return nil, fmt.Errorf("layer %d (%s): %w", i, fl.Name, err)
		}
		l.base().name = fl.Name
		var ins []*Node
		for _, p := range fl.Inbound {
			if p < 0 || p >= i {
				return nil, fmt.Errorf("layer %d (%s): bad inbound index %d", i, fl.Name, p)
			}
			ins = append(ins, nodes[p])
		}
		nodes[i] = &Node{layer: l, inputs: ins}
	}
	var inputs []*Node
	for _, i := range h.Inputs {
		if i < 0 || i >= len(nodes) {
			return nil, fmt.Errorf("bad input index %d", i)
		}
		inputs = append(inputs, nodes[i])
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("no layers")
	}
	m, err := NewModel(inputs, nodes[len(nodes)-1])
	if err != nil {
		return nil, err
	}
	ws := m.Weights()
	want := 0
	for _, w := range ws {
		want += len(w.Value)
	}
	if r.Len() != want*4 {
		return nil, fmt.Errorf("weights section has %d bytes, architecture needs %d", r.Len(), want*4)
	}
	buf := make([]byte, 4)
	for _, w := range ws {
		for i := range w.Value {
			io.ReadFull(r, buf)
			w.Value[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf))
		}
	}
	m.initialized = true
	if h.Loss != "" {
		if err := m.Compile(CompileOptions{Loss: h.Loss, Metrics: h.Metrics, Optimizer: optimizerByName(h.Opt), Seed: h.Seed}); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func optimizerByName(name string) Optimizer {
	switch name {
	case "SGD":
		return &SGD{}
	case "RMSprop":
		return &RMSprop{}
	case "Adagrad":
		return &Adagrad{}
	case "Adadelta":
		return &Adadelta{}
	case "Adamax":
		return &Adamax{}
	case "Nadam":
		return &Nadam{}
	}
	return &Adam{}
}

func cfgInt(c map[string]any, k string) int {
	switch v := c[k].(type) {
	case float64:
		return int(v)
	case int:
		return v
	}
	return 0
}

func cfgFloat(c map[string]any, k string) float64 {
	v, _ := c[k].(float64)
	return v
}

func cfgString(c map[string]any, k string) string {
	v, _ := c[k].(string)
	return v
}

func layerFromConfig(kind string, c map[string]any) (Layer, error) {
	switch kind {
	case "InputLayer":
		var shape []int
		raw, _ := c["shape"].([]any)
		for _, v := range raw {
			f, _ := v.(float64)
			shape = append(shape, int(f))
		}
		return InputLayer(shape...), nil
	case "Dense":
		return Dense(cfgInt(c, "units"), cfgString(c, "activation")), nil
	case "Activation":
		return Activation(cfgString(c, "activation")), nil
	case "Flatten":
		return Flatten(), nil
	case "Dropout":
		return Dropout(cfgFloat(c, "rate")), nil
	case "Conv2D":
		return Conv2D(cfgInt(c, "filters"), cfgInt(c, "kernel_size"), Conv2DOptions{Strides: cfgInt(c, "strides"),
			Padding: cfgString(c, "padding"), Activation: cfgString(c, "activation")}), nil
	case "MaxPooling2D":
		return MaxPooling2D(cfgInt(c, "pool_size"), PoolOptions{Strides: cfgInt(c, "strides"), Padding: cfgString(c, "padding")}), nil
	case "BatchNormalization":
		return BatchNormalization(BatchNormOptions{Momentum: cfgFloat(c, "momentum"), Epsilon: cfgFloat(c, "epsilon")}), nil
	case "Embedding":
		return Embedding(cfgInt(c, "input_dim"), cfgInt(c, "output_dim")), nil
	case "Concatenate":
		return Concatenate(), nil
	}
	return nil, fmt.Errorf("unknown layer kind %q", kind)
}
