package train

import (
	"fmt"
	"math"
)

const probEps = 1e-7

// lossFunc computes a loss on a batch and writes dL/d(output) into grad
// (or dL/d(logits) when fused with the output softmax/sigmoid).
type lossFunc interface {
	name() string
	compute(out, y *Tensor, grad []float32, fused bool) (float64, error)
	fuses(activation string) bool
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

func checkTargets(out, y *Tensor, perRow int) error {
	if y == nil {
		return fmt.Errorf("train: batch has no targets")
	}
	if y.Len() != out.Len() || y.RowSize() != perRow {
		return fmt.Errorf("train: targets of shape %v do not match outputs of shape %v", y.Shape, out.Shape)
	}
	return nil
}

type mseLoss struct{}

func (mseLoss) name() string        { return "mse" }
func (mseLoss) fuses(a string) bool { return false }
func (mseLoss) compute(out, y *Tensor, grad []float32, fused bool) (float64, error) {
	if err := checkTargets(out, y, out.RowSize()); err != nil {
		return 0, err
	}
	var s float64
	scale := float32(2 / float64(len(out.Data)))
	for i, v := range out.Data {
		d := v - y.Data[i]
		s += float64(d) * float64(d)
		if grad != nil {
			grad[i] = scale * d
		}
	}
	return s / float64(len(out.Data)), nil
}

type bceLoss struct{}

func (bceLoss) name() string        { return "binary_crossentropy" }
func (bceLoss) fuses(a string) bool { return a == "sigmoid" }
func (bceLoss) compute(out, y *Tensor, grad []float32, fused bool) (float64, error) {
	if err := checkTargets(out, y, out.RowSize()); err != nil {
		return 0, err
	}
	var s float64
	n := float64(len(out.Data))
	for i, v := range out.Data {
		p := min(max(float64(v), probEps), 1-probEps)
		t := float64(y.Data[i])
		s -= t*math.Log(p) + (1-t)*math.Log(1-p)
		if grad != nil {
			if fused {
				grad[i] = float32((float64(v) - t) / n)
			} else {
				grad[i] = float32((p - t) / (p * (1 - p)) / n)
			}
		}
	}
	return s / n, nil
}

type sceLoss struct{}

func (sceLoss) name() string        { return "sparse_categorical_crossentropy" }
func (sceLoss) fuses(a string) bool { return a == "softmax" }
func (sceLoss) compute(out, y *Tensor, grad []float32, fused bool) (float64, error) {
	if err := checkTargets(out, y, 1); err != nil {
		return 0, err
	}
	C := out.RowSize()
	N := out.Len()
	var s float64
	inv := float32(1 / float64(N))
	for r := 0; r < N; r++ {
		c := int(y.Data[r])
		if float32(c) != y.Data[r] || c < 0 || c >= C {
			return 0, fmt.Errorf("train: target %v of example %d is not a class index in [0, %d)", y.Data[r], r, C)
		}
		row := out.Data[r*C : (r+1)*C]
		p := max(float64(row[c]), probEps)
		s -= math.Log(p)
		if grad != nil {
			g := grad[r*C : (r+1)*C]
			if fused {
				for j, v := range row {
					g[j] = v * inv
				}
				g[c] -= inv
			} else {
				clear(g)
				g[c] = float32(-1 / (p * float64(N)))
			}
		}
	}
	return s / float64(N), nil
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
