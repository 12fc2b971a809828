package train

import (
	"context"
	"fmt"
	"math"
	"math/rand"
)

// ImageDataGenerator augments NHWC images on the fly, like Keras's
// ImageDataGenerator: random shifts and zoom, with "nearest" filling of
// the border. The randomness comes from the pass seed (Fit derives it from
// CompileOptions.Seed and the epoch), so runs are reproducible.
type ImageDataGenerator struct {
	// WidthShift is the largest horizontal shift: a fraction of the width
	// when below 1 (uniform), a whole number of pixels otherwise (an integer
	// drawn from [-WidthShift, WidthShift], as Keras's width_shift_range=
	// [-1, 0, +1] for 1).
	WidthShift float64
	// HeightShift is the same for the vertical direction.
	HeightShift float64
	// Zoom draws horizontal and vertical zoom factors in [1-Zoom, 1+Zoom]
	// (Keras's zoom_range=[0.95, 1.05] is 0.05).
	Zoom float64
}

// Flow returns a dataset that yields the examples of d with the first
// input (images of shape height×width×channels) augmented.
func (g ImageDataGenerator) Flow(d *TensorDataset) (*AugmentedDataset, error) {
	if len(d.X[0].Shape) != 4 {
		return nil, fmt.Errorf("train: ImageDataGenerator needs images of shape (n, height, width, channels), got %v", d.X[0].Shape)
	}
	if g.WidthShift < 0 || g.HeightShift < 0 || g.Zoom < 0 || g.Zoom >= 1 {
		return nil, fmt.Errorf("train: ImageDataGenerator ranges must be non-negative and Zoom below 1")
	}
	return &AugmentedDataset{gen: g, src: d}, nil
}

// AugmentedDataset is the Dataset returned by ImageDataGenerator.Flow.
type AugmentedDataset struct {
	gen ImageDataGenerator
	src *TensorDataset
}

// Len returns the number of examples.
func (a *AugmentedDataset) Len() int { return a.src.Len() }

// Batches starts one pass with fresh random transforms.
func (a *AugmentedDataset) Batches(ctx context.Context, opts BatchOptions) (BatchIterator, error) {
	it, err := a.src.Batches(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &augIter{BatchIterator: it, gen: a.gen, rng: rand.New(rand.NewSource(opts.Seed ^ 0x61756721))}, nil
}

type augIter struct {
	BatchIterator
	gen ImageDataGenerator
	rng *rand.Rand
}

func (it *augIter) Next() (*Batch, error) {
	b, err := it.BatchIterator.Next()
	if err != nil {
		return nil, err
	}
	x := b.X[0]
	out := &Batch{X: append([]*Tensor{it.gen.Transform(x, it.rng.Int63())}, b.X[1:]...), Y: b.Y}
	return out, nil
}

// Transform returns randomly shifted and zoomed copies of the images x
// (n×height×width×channels); seed fixes the draws.
func (g ImageDataGenerator) Transform(x *Tensor, seed int64) *Tensor {
	n, h, w, c := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	rng := rand.New(rand.NewSource(seed))
	type params struct{ tx, ty, zx, zy float64 }
	ps := make([]params, n)
	shift := func(r float64, size int) float64 {
		switch {
		case r == 0:
			return 0
		case r < 1:
			return (rng.Float64()*2 - 1) * r * float64(size)
		default:
			k := int(r)
			return float64(rng.Intn(2*k+1) - k)
		}
	}
	for i := range ps {
		ps[i].tx = shift(g.WidthShift, w)
		ps[i].ty = shift(g.HeightShift, h)
		ps[i].zx, ps[i].zy = 1, 1
		if g.Zoom > 0 {
			ps[i].zx = 1 - g.Zoom + rng.Float64()*2*g.Zoom
			ps[i].zy = 1 - g.Zoom + rng.Float64()*2*g.Zoom
		}
	}
	out := Zeros(x.Shape...)
	cy, cx := float64(h-1)/2, float64(w-1)/2
	parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p := ps[i]
			src := x.Data[i*h*w*c : (i+1)*h*w*c]
			dst := out.Data[i*h*w*c : (i+1)*h*w*c]
			for oy := 0; oy < h; oy++ {
				// Source coordinates: zoom about the centre, then shift
				// (a positive shift moves the content right/down).
				sy := p.zy*(float64(oy)-cy) + cy - p.ty
				sy = math.Min(math.Max(sy, 0), float64(h-1))
				y0 := int(sy)
				y1 := min(y0+1, h-1)
				fy := float32(sy - float64(y0))
				for ox := 0; ox < w; ox++ {
					sx := p.zx*(float64(ox)-cx) + cx - p.tx
					sx = math.Min(math.Max(sx, 0), float64(w-1))
					x0 := int(sx)
					x1 := min(x0+1, w-1)
					fx := float32(sx - float64(x0))
					for ch := 0; ch < c; ch++ {
						v00 := src[(y0*w+x0)*c+ch]
						v01 := src[(y0*w+x1)*c+ch]
						v10 := src[(y1*w+x0)*c+ch]
						v11 := src[(y1*w+x1)*c+ch]
						top := v00 + (v01-v00)*fx
						bot := v10 + (v11-v10)*fx
						dst[(oy*w+ox)*c+ch] = top + (bot-top)*fy
					}
				}
			}
		}
	})
	return out
}
