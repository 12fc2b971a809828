package train

import (
	"fmt"
	"html"
	"math/rand"
	"strings"
	"unicode"
)

// Node is the output of a layer applied to other nodes, in the functional
// form of model building (Input, Apply, NewModel).
type Node struct {
	layer  Layer
	inputs []*Node
}

// Input starts a functional model: it declares one model input whose
// examples have the given shape.
func Input(shape ...int) *Node {
	return &Node{layer: InputLayer(shape...)}
}

// Apply calls layer l on the given nodes (several for Concatenate) and
// returns its output node. Shape errors are reported by NewModel.
func Apply(l Layer, inputs ...*Node) *Node {
	return &Node{layer: l, inputs: inputs}
}

// Then applies layers one after the other starting from n and returns the
// last output node.
func (n *Node) Then(layers ...Layer) *Node {
	for _, l := range layers {
		n = Apply(l, n)
	}
	return n
}

// Named renames the node's layer (an Input's name is the feature name used
// by Arrow datasets) and returns n.
func (n *Node) Named(name string) *Node {
	n.layer.base().name = name
	return n
}

// Model is a network of layers with one or more inputs and one output.
// Build one with Sequential or NewModel, then Compile and Fit it. A Model
// keeps per-layer buffers between calls, so it must not be used from
// several goroutines at once.
type Model struct {
	nodes []*Node // topological order, inputs first
	inIdx []int   // node index of each model input
	preds [][]int // node indices feeding each node
	// progs caches one compiled gorgonia graph per batch size and mode.
	progs map[progKey]*program

	compiled    bool
	initialized bool
	opts        CompileOptions
	loss        lossFunc
	metrics     []metric
	rng         *rand.Rand
	stop        bool
}

// Sequential stacks layers into a model. The first layer must be an
// InputLayer giving the example shape.
func Sequential(layers ...Layer) (*Model, error) {
	if len(layers) == 0 {
		return nil, fmt.Errorf("train: Sequential needs at least an InputLayer")
	}
	if _, ok := layers[0].(*inputLayer); !ok {
		return nil, fmt.Errorf("train: the first layer of a Sequential model must be InputLayer(shape...), got %s", layers[0].Kind())
	}
	n := &Node{layer: layers[0]}
	out := n.Then(layers[1:]...)
	return NewModel([]*Node{n}, out)
}

// NewModel builds a functional model from its input nodes (made by Input)
// to its output node.
func NewModel(inputs []*Node, output *Node) (*Model, error) {
	m := &Model{}
	index := map[*Node]int{}
	if len(inputs) == 0 {
		return nil, fmt.Errorf("train: a model needs at least one input")
	}
	for _, in := range inputs {
		if in == nil {
			return nil, fmt.Errorf("train: nil model input")
		}
		if _, ok := in.layer.(*inputLayer); !ok {
			return nil, fmt.Errorf("train: model inputs must be made by Input, got a %s node", in.layer.Kind())
		}
		index[in] = len(m.nodes)
		m.inIdx = append(m.inIdx, len(m.nodes))
		m.nodes = append(m.nodes, in)
	}
	var visit func(n *Node, path map[*Node]bool) error
	visit = func(n *Node, path map[*Node]bool) error {
		if n == nil || n.layer == nil {
			return fmt.Errorf("train: nil node in the model graph")
		}
		if _, ok := index[n]; ok {
			return nil
		}
		if _, ok := n.layer.(*inputLayer); ok {
			return fmt.Errorf("train: the output depends on an Input that is not among the model inputs")
		}
		if path[n] {
			return fmt.Errorf("train: cycle at layer %s", n.layer.Kind())
		}
		path[n] = true
		for _, p := range n.inputs {
			if err := visit(p, path); err != nil {
				return err
			}
		}
		index[n] = len(m.nodes)
		m.nodes = append(m.nodes, n)
		return nil
	}
	if err := visit(output, map[*Node]bool{}); err != nil {
		return nil, err
	}
	seen := map[Layer]bool{}
	counts := map[string]int{}
	names := map[string]bool{}
	for _, n := range m.nodes {
		if seen[n.layer] {
			return nil, fmt.Errorf("train: layer %s is used twice; layers cannot be shared", n.layer.Kind())
		}
		seen[n.layer] = true
		if n.layer.Name() != "" {
			names[n.layer.Name()] = true
		}
	}
	for i, n := range m.nodes {
		b := n.layer.base()
		if b.name == "" {
			base := snake(b.kind)
			if b.kind == "InputLayer" {
				base = "input"
			}
			for {
				name := base
				if c := counts[base]; c > 0 {
					name = fmt.Sprintf("%s_%d", base, c)
				}
				counts[base]++
				if !names[name] {
					b.name = name
					names[name] = true
					break
				}
			}
		}
		var inShapes [][]int
		var pred []int
		for _, p := range n.inputs {
			pred = append(pred, index[p])
			inShapes = append(inShapes, m.nodes[index[p]].layer.base().out)
		}
		m.preds = append(m.preds, pred)
		out, err := n.layer.build(inShapes)
		if err != nil {
			return nil, fmt.Errorf("train: layer %d (%s %q): %w", i, b.kind, b.name, err)
		}
		b.out = out
	}
	return m, nil
}

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 && !unicode.IsDigit(rune(s[i-1])) && !unicode.IsUpper(rune(s[i-1])) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Layers returns the model's layers in evaluation order, inputs first.
func (m *Model) Layers() []Layer {
	out := make([]Layer, len(m.nodes))
	for i, n := range m.nodes {
		out[i] = n.layer
	}
	return out
}

// InputNames returns the names of the model inputs, in order.
func (m *Model) InputNames() []string {
	var out []string
	for _, i := range m.inIdx {
		out = append(out, m.nodes[i].layer.Name())
	}
	return out
}

// InputShapes returns the example shape of each model input.
func (m *Model) InputShapes() [][]int {
	var out [][]int
	for _, i := range m.inIdx {
		out = append(out, m.nodes[i].layer.OutputShape())
	}
	return out
}

// OutputShape returns the example shape of the model output.
func (m *Model) OutputShape() []int { return m.nodes[len(m.nodes)-1].layer.OutputShape() }

// Inbound returns, for each layer in Layers order, the indices of the
// layers feeding it (empty for inputs).
func (m *Model) Inbound() [][]int {
	out := make([][]int, len(m.preds))
	for i, p := range m.preds {
		out[i] = append([]int(nil), p...)
	}
	return out
}

// Weight is one named weight array of a model, for exporters.
type Weight struct {
	// Layer is the owning layer's name.
	Layer string
	// Param is the weight array (its Name, Shape and Value).
	*Param
}

// Weights returns every weight array of the model in layer order.
func (m *Model) Weights() []Weight {
	var out []Weight
	for _, n := range m.nodes {
		for _, p := range n.layer.Params() {
			out = append(out, Weight{Layer: n.layer.Name(), Param: p})
		}
	}
	return out
}

// CountParams returns the numbers of trainable and non-trainable weights.
func (m *Model) CountParams() (trainable, nonTrainable int) {
	for _, w := range m.Weights() {
		if w.Trainable {
			trainable += len(w.Value)
		} else {
			nonTrainable += len(w.Value)
		}
	}
	return
}

// initWeights (re)initialises every weight from seed.
func (m *Model) initWeights(seed int64) {
	for i, n := range m.nodes {
		n.layer.initWeights(rand.New(rand.NewSource(seed*7919 + int64(i) + 1)))
	}
	m.initialized = true
}

// Summary describes the model as a table of layers, output shapes and
// parameter counts; it displays as a table in notebooks.
type Summary struct {
	// Rows holds one entry per layer.
	Rows []SummaryRow
	// Trainable and NonTrainable count the weights.
	Trainable, NonTrainable int
}

// SummaryRow is one layer of a Summary.
type SummaryRow struct {
	// Name and Kind identify the layer ("dense_1", "Dense").
	Name, Kind string
	// OutputShape is the output shape, batch dimension first as None.
	OutputShape string
	// Params is the number of weights.
	Params int
	// ConnectedTo lists the input layers (functional models).
	ConnectedTo []string
}

// Summary returns the model summary (Keras's model.summary()).
func (m *Model) Summary() *Summary {
	s := &Summary{}
	for i, n := range m.nodes {
		r := SummaryRow{Name: n.layer.Name(), Kind: n.layer.Kind(), OutputShape: shapeStr(n.layer.base().out)}
		for _, p := range n.layer.Params() {
			r.Params += len(p.Value)
		}
		for _, p := range m.preds[i] {
			r.ConnectedTo = append(r.ConnectedTo, m.nodes[p].layer.Name())
		}
		s.Rows = append(s.Rows, r)
	}
	s.Trainable, s.NonTrainable = m.CountParams()
	return s
}

// String renders the summary as a fixed-width text table.
func (s *Summary) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-28s %-22s %10s\n", "Layer (type)", "Output Shape", "Param #")
	b.WriteString(strings.Repeat("=", 62) + "\n")
	for _, r := range s.Rows {
		fmt.Fprintf(&b, "%-28s %-22s %10d\n", r.Name+" ("+r.Kind+")", r.OutputShape, r.Params)
	}
	b.WriteString(strings.Repeat("=", 62) + "\n")
	fmt.Fprintf(&b, "Total params: %d\nTrainable params: %d\nNon-trainable params: %d", s.Trainable+s.NonTrainable, s.Trainable, s.NonTrainable)
	return b.String()
}

// MimeBundle renders the summary as an HTML table (display.Renderer).
func (s *Summary) MimeBundle() map[string]any {
	var b strings.Builder
	b.WriteString("<table><thead><tr><th>Layer (type)</th><th>Output Shape</th><th>Param #</th><th>Connected to</th></tr></thead><tbody>")
	for _, r := range s.Rows {
		fmt.Fprintf(&b, "<tr><td>%s (%s)</td><td>%s</td><td style=\"text-align:right\">%d</td><td>%s</td></tr>",
			html.EscapeString(r.Name), html.EscapeString(r.Kind), html.EscapeString(r.OutputShape), r.Params,
			html.EscapeString(strings.Join(r.ConnectedTo, ", ")))
	}
	fmt.Fprintf(&b, "</tbody></table><p>Total params: %d · Trainable: %d · Non-trainable: %d</p>", s.Trainable+s.NonTrainable, s.Trainable, s.NonTrainable)
	return map[string]any{"text/plain": s.String(), "text/html": b.String()}
}
