package train

import (
	"fmt"
	"strings"
)

// Tensor is a dense float32 array in row-major order. The first dimension of
// a batch tensor is the batch; images are laid out NHWC (channels last), as
// in Keras.
type Tensor struct {
	// Shape lists the dimensions, outermost first.
	Shape []int
	// Data holds the elements; len(Data) is the product of Shape.
	Data []float32
}

// NewTensor wraps data (not copied) in a tensor of the given shape.
func NewTensor(data []float32, shape ...int) (*Tensor, error) {
	n := numel(shape)
	if n != len(data) {
		return nil, fmt.Errorf("train: shape %v needs %d values, got %d", shape, n, len(data))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}, nil
}

// Zeros returns a tensor of the given shape filled with zeros.
func Zeros(shape ...int) *Tensor {
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, numel(shape))}
}

// Len returns the size of the first dimension (the number of examples of a
// batch tensor), or 0 for a scalar.
func (t *Tensor) Len() int {
	if len(t.Shape) == 0 {
		return 0
	}
	return t.Shape[0]
}

// RowSize returns the number of elements per example (product of every
// dimension after the first).
func (t *Tensor) RowSize() int { return numel(t.Shape[1:]) }

// Rows returns a new tensor holding the examples at the given indices.
func (t *Tensor) Rows(idx []int) *Tensor {
	rs := t.RowSize()
	out := &Tensor{Shape: append([]int{len(idx)}, t.Shape[1:]...), Data: make([]float32, len(idx)*rs)}
	for i, j := range idx {
		copy(out.Data[i*rs:(i+1)*rs], t.Data[j*rs:(j+1)*rs])
	}
	return out
}

// Slice returns a tensor sharing data with t that holds examples [from, to).
func (t *Tensor) Slice(from, to int) *Tensor {
	rs := t.RowSize()
	return &Tensor{Shape: append([]int{to - from}, t.Shape[1:]...), Data: t.Data[from*rs : to*rs]}
}

// Clone returns a deep copy of t.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// At returns the element at the given full index.
func (t *Tensor) At(idx ...int) float32 {
	off := 0
	for i, v := range idx {
		off = off*t.Shape[i] + v
	}
	return t.Data[off]
}

// Argmax returns, for each example of a 2-D tensor, the index of its largest
// value (the predicted class of a softmax output).
func (t *Tensor) Argmax() []int {
	rs := t.RowSize()
	out := make([]int, t.Len())
	for i := range out {
		row := t.Data[i*rs : (i+1)*rs]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[i] = best
	}
	return out
}

// String describes the tensor's shape and first values.
func (t *Tensor) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tensor%v[", t.Shape)
	for i, v := range t.Data {
		if i == 8 {
			b.WriteString(" …")
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.4g", v)
	}
	b.WriteByte(']')
	return b.String()
}

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

func shapeStr(s []int) string {
	parts := []string{"None"}
	for _, v := range s {
		parts = append(parts, fmt.Sprint(v))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
