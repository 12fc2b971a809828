package train

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
)

const probEps = 1e-7

// lossFunc builds a loss on the model output in the graph. Targets are fed
// as a tensor of targetShape, filled by fillTarget.
type lossFunc interface {
	name() string
	targetShape(batch int, out []int) []int
	fillTarget(dst []float32, y *Tensor, out []int) error
	graph(b *builder, out, target *G.Node) (*G.Node, error)
}

func lossByName(name string) (lossFunc, error) {
	switch name {
	case "mse", "mean_squared_error", "MeanSquaredError":
		return mseLoss{}, nil
	case "binary_crossentropy", "BinaryCrossentropy":
		return bceLoss{}, nil
	case "sparse_categorical_crossentropy", "SparseCategoricalCrossentropy":
		return sceLoss{}, nil
	}
	return nil, fmt.Errorf("train: unknown loss %q (want mse, binary_crossentropy or sparse_categorical_crossentropy)", name)
}

// sameTargets copies y, which must have one target per output value.
func sameTargets(dst []float32, y *Tensor, out []int) error {
	if y == nil {
		return fmt.Errorf("train: batch has no targets")
	}
	if y.Len() != out[0] || len(y.Data) != len(dst) {
		return fmt.Errorf("train: targets of shape %v do not match outputs of shape %v", y.Shape, out)
	}
	copy(dst, y.Data)
	return nil
}

func withBatch(batch int, out []int) []int { return append([]int{batch}, out...) }

type mseLoss struct{}

func (mseLoss) name() string                           { return "mse" }
func (mseLoss) targetShape(batch int, out []int) []int { return withBatch(batch, out) }
func (mseLoss) fillTarget(dst []float32, y *Tensor, out []int) error {
	return sameTargets(dst, y, out)
}
func (mseLoss) graph(b *builder, out, target *G.Node) (*G.Node, error) {
	d, err := G.Sub(out, target)
	if err != nil {
		return nil, err
	}
	if d, err = G.Square(d); err != nil {
		return nil, err
	}
	return G.Mean(d)
}

type bceLoss struct{}

func (bceLoss) name() string                           { return "binary_crossentropy" }
func (bceLoss) targetShape(batch int, out []int) []int { return withBatch(batch, out) }
func (bceLoss) fillTarget(dst []float32, y *Tensor, out []int) error {
	return sameTargets(dst, y, out)
}

// graph is mean(softplus(z) - t·z) on the logits z of a sigmoid output
// (stable), else the clipped -mean(t·log p + (1-t)·log(1-p)).
func (bceLoss) graph(b *builder, out, target *G.Node) (*G.Node, error) {
	if lg, ok := b.logits[out]; ok && lg.act == "sigmoid" {
		z := lg.z
		sp, err := G.Softplus(z)
		if err != nil {
			return nil, err
		}
		tz, err := G.HadamardProd(target, z)
		if err != nil {
			return nil, err
		}
		d, err := G.Sub(sp, tz)
		if err != nil {
			return nil, err
		}
		return G.Mean(d)
	}
	n := out.Shape().TotalSize()
	return apply("loss/binary_crossentropy", nil, []bool{true, false}, func(l []float32, in [][]float32) error {
		var s float64
		for i, v := range in[0] {
			p := min(max(float64(v), probEps), 1-probEps)
			t := float64(in[1][i])
			s -= t*math.Log(p) + (1-t)*math.Log(1-p)
		}
		l[0] = float32(s / float64(n))
		return nil
	}, func(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
		d, err := apply("loss/binary_crossentropy_grad", out.Shape(), nil, func(d []float32, in [][]float32) error {
			g := float64(in[2][0])
			for i, v := range in[0] {
				p := min(max(float64(v), probEps), 1-probEps)
				t := float64(in[1][i])
				d[i] = float32(g * (p - t) / (p * (1 - p)) / float64(n))
			}
			return nil
		}, nil, out, target, grad)
		return G.Nodes{d, nil}, err
	}, out, target)
}

type sceLoss struct{}

func (sceLoss) name() string                           { return "sparse_categorical_crossentropy" }
func (sceLoss) targetShape(batch int, out []int) []int { return []int{batch} }
func (sceLoss) fillTarget(dst []float32, y *Tensor, out []int) error {
	if y == nil {
		return fmt.Errorf("train: batch has no targets")
	}
	if y.Len() != out[0] || y.RowSize() != 1 {
		return fmt.Errorf("train: targets of shape %v do not match outputs of shape %v", y.Shape, out)
	}
	C := numel(out[1:])
	for r, v := range y.Data {
		c := int(v)
		if float32(c) != v || c < 0 || c >= C {
			return fmt.Errorf("train: target %v of example %d is not a class index in [0, %d)", v, r, C)
		}
	}
	copy(dst, y.Data)
	return nil
}

// graph is a custom op: on the logits of a softmax output it computes
// log-sum-exp minus the target logit (gorgonia v0.9.17's LogSumExp adds the
// maximum before the logarithm instead of after), with the gradient
// (softmax - onehot)/N; on other outputs it is -mean(log p[target]),
// clipped.
func (sceLoss) graph(b *builder, out, target *G.Node) (*G.Node, error) {
	s := out.Shape()
	N, C := s[0], s.TotalSize()/s[0]
	if lg, ok := b.logits[out]; ok && lg.act == "softmax" && len(s) == 2 {
		z := lg.z
		return apply("loss/softmax_crossentropy", nil, []bool{true, false}, func(l []float32, in [][]float32) error {
			var sum float64
			for r := 0; r < N; r++ {
				row := in[0][r*C : (r+1)*C]
				mx := row[0]
				for _, v := range row {
					mx = max(mx, v)
				}
				var e float64
				for _, v := range row {
					e += math.Exp(float64(v - mx))
				}
				sum += math.Log(e) + float64(mx-row[int(in[1][r])])
			}
			l[0] = float32(sum / float64(N))
			return nil
		}, func(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
			d, err := apply("loss/softmax_crossentropy_grad", z.Shape(), nil, func(d []float32, in [][]float32) error {
				// in: softmax output, targets, upstream gradient.
				g := in[2][0] / float32(N)
				for i, p := range in[0] {
					d[i] = p * g
				}
				for r := 0; r < N; r++ {
					d[r*C+int(in[1][r])] -= g
				}
				return nil
			}, nil, out, target, grad)
			return G.Nodes{d, nil}, err
		}, z, target)
	}
	return apply("loss/sparse_crossentropy", nil, []bool{true, false}, func(l []float32, in [][]float32) error {
		var sum float64
		for r := 0; r < N; r++ {
			sum -= math.Log(max(float64(in[0][r*C+int(in[1][r])]), probEps))
		}
		l[0] = float32(sum / float64(N))
		return nil
	}, func(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
		d, err := apply("loss/sparse_crossentropy_grad", s, nil, func(d []float32, in [][]float32) error {
			clear(d)
			g := float64(in[2][0]) / float64(N)
			for r := 0; r < N; r++ {
				i := r*C + int(in[1][r])
				d[i] = float32(-g / max(float64(in[0][i]), probEps))
			}
			return nil
		}, nil, out, target, grad)
		return G.Nodes{d, nil}, err
	}, out, target)
}

// metrics -------------------------------------------------------------------

// metric accumulates a sum and a count over batches.
type metric struct {
	name   string
	update func(out, y *Tensor) (sum, count float64)
	final  func(sum, count float64) float64
}

func mean(s, c float64) float64 { return s / c }

func metricByName(name string, loss lossFunc) (metric, error) {
	switch name {
	case "accuracy", "acc":
		if _, ok := loss.(sceLoss); ok {
			return metric{name: "accuracy", final: mean, update: func(out, y *Tensor) (float64, float64) {
				var ok float64
				for i, p := range out.Argmax() {
					if float32(p) == y.Data[i] {
						ok++
					}
				}
				return ok, float64(out.Len())
			}}, nil
		}
		return metric{name: "accuracy", final: mean, update: func(out, y *Tensor) (float64, float64) {
			var ok float64
			for i, v := range out.Data {
				if (v > 0.5) == (y.Data[i] > 0.5) {
					ok++
				}
			}
			return ok, float64(len(out.Data))
		}}, nil
	case "mse", "mean_squared_error":
		return metric{name: "mse", final: mean, update: sqErr}, nil
	case "rmse", "root_mean_squared_error":
		return metric{name: "rmse", final: func(s, c float64) float64 { return math.Sqrt(s / c) }, update: sqErr}, nil
	case "mae", "mean_absolute_error":
		return metric{name: "mae", final: mean, update: func(out, y *Tensor) (float64, float64) {
			var s float64
			for i, v := range out.Data {
				s += math.Abs(float64(v - y.Data[i]))
			}
			return s, float64(len(out.Data))
		}}, nil
	}
	return metric{}, fmt.Errorf("train: unknown metric %q (want accuracy, mse, rmse or mae)", name)
}

func sqErr(out, y *Tensor) (float64, float64) {
	var s float64
	for i, v := range out.Data {
		d := float64(v - y.Data[i])
		s += d * d
	}
	return s, float64(len(out.Data))
}
