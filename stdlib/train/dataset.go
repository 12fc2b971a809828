package train

import (
	"context"
	"fmt"
	"io"
	"math/rand"
)

// Batch is one mini-batch: one tensor per model input and the targets.
type Batch struct {
	// X holds one tensor per model input, batch dimension first.
	X []*Tensor
	// Y holds the targets (class indices for sparse categorical
	// cross-entropy, values for regression).
	Y *Tensor
}

// BatchOptions say how to cut a Dataset into batches for one pass.
type BatchOptions struct {
	// BatchSize is the number of examples per batch (default 32).
	BatchSize int
	// Shuffle reorders the examples (in-memory datasets) or the batches
	// within a window (streamed datasets).
	Shuffle bool
	// Seed drives shuffling and augmentation of this pass.
	Seed int64
}

// Dataset is a source of training or evaluation examples.
type Dataset interface {
	// Len returns the number of examples, or -1 when unknown.
	Len() int
	// Batches starts one pass over the data.
	Batches(ctx context.Context, opts BatchOptions) (BatchIterator, error)
}

// BatchIterator yields the batches of one pass.
type BatchIterator interface {
	// Next returns the next batch, or io.EOF after the last one.
	Next() (*Batch, error)
	// Close releases the iterator's resources.
	Close() error
}

// TensorDataset is a Dataset over in-memory tensors.
type TensorDataset struct {
	// X holds one tensor per model input; all have the same first dimension.
	X []*Tensor
	// Y holds the targets (may be nil for Predict).
	Y *Tensor
}

// NewTensorDataset returns a dataset of examples x (one tensor per model
// input, first dimension = examples) with targets y.
func NewTensorDataset(y *Tensor, x ...*Tensor) (*TensorDataset, error) {
	if len(x) == 0 {
		return nil, fmt.Errorf("train: a dataset needs at least one input tensor")
	}
	n := x[0].Len()
	for i, t := range x {
		if t.Len() != n {
			return nil, fmt.Errorf("train: input tensor %d has %d examples, input 0 has %d", i, t.Len(), n)
		}
		if numel(t.Shape) != len(t.Data) {
			return nil, fmt.Errorf("train: input tensor %d: shape %v does not match %d values", i, t.Shape, len(t.Data))
		}
	}
	if y != nil && y.Len() != n {
		return nil, fmt.Errorf("train: targets have %d examples, inputs have %d", y.Len(), n)
	}
	return &TensorDataset{X: x, Y: y}, nil
}

// Len returns the number of examples.
func (d *TensorDataset) Len() int { return d.X[0].Len() }

// Subset returns the dataset restricted to the examples at idx (copied).
func (d *TensorDataset) Subset(idx []int) *TensorDataset {
	out := &TensorDataset{}
	for _, x := range d.X {
		out.X = append(out.X, x.Rows(idx))
	}
	if d.Y != nil {
		out.Y = d.Y.Rows(idx)
	}
	return out
}

// Take returns the first n examples (sharing memory).
func (d *TensorDataset) Take(n int) *TensorDataset {
	n = min(n, d.Len())
	out := &TensorDataset{}
	for _, x := range d.X {
		out.X = append(out.X, x.Slice(0, n))
	}
	if d.Y != nil {
		out.Y = d.Y.Slice(0, n)
	}
	return out
}

// Split returns the first (1-frac) of the examples and the last frac, like
// Keras's validation_split.
func (d *TensorDataset) Split(frac float64) (*TensorDataset, *TensorDataset) {
	n := d.Len()
	cut := n - int(float64(n)*frac)
	a, b := &TensorDataset{}, &TensorDataset{}
	for _, x := range d.X {
		a.X = append(a.X, x.Slice(0, cut))
		b.X = append(b.X, x.Slice(cut, n))
	}
	if d.Y != nil {
		a.Y, b.Y = d.Y.Slice(0, cut), d.Y.Slice(cut, n)
	}
	return a, b
}

// Batches starts one pass over the examples.
func (d *TensorDataset) Batches(ctx context.Context, opts BatchOptions) (BatchIterator, error) {
	bs := opts.BatchSize
	if bs <= 0 {
		bs = 32
	}
	var order []int
	if opts.Shuffle {
		order = rand.New(rand.NewSource(opts.Seed)).Perm(d.Len())
	}
	return &tensorIter{d: d, bs: bs, order: order, ctx: ctx}, nil
}

type tensorIter struct {
	d     *TensorDataset
	bs    int
	pos   int
	order []int
	ctx   context.Context
}

func (it *tensorIter) Next() (*Batch, error) {
	if err := it.ctx.Err(); err != nil {
		return nil, err
	}
	n := it.d.Len()
	if it.pos >= n {
		return nil, io.EOF
	}
	end := min(it.pos+it.bs, n)
	b := &Batch{}
	if it.order == nil {
		for _, x := range it.d.X {
			b.X = append(b.X, x.Slice(it.pos, end))
		}
		if it.d.Y != nil {
			b.Y = it.d.Y.Slice(it.pos, end)
		}
	} else {
		idx := it.order[it.pos:end]
		for _, x := range it.d.X {
			b.X = append(b.X, x.Rows(idx))
		}
		if it.d.Y != nil {
			b.Y = it.d.Y.Rows(idx)
		}
	}
	it.pos = end
	return b, nil
}

func (it *tensorIter) Close() error { return nil }
