package train

import (
	"fmt"
	"math/rand"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Named sets the name of l (the default is the snake-case kind with a
// counter, as in Keras: "dense", "dense_1") and returns l.
func Named(l Layer, name string) Layer {
	l.base().name = name
	return l
}

// Input ---------------------------------------------------------------------

type inputLayer struct {
	layerBase
	shape []int
}

// InputLayer declares the shape of one example (without the batch
// dimension) as the first layer of a Sequential model, like Keras's
// InputLayer / input_shape.
func InputLayer(shape ...int) Layer {
	return &inputLayer{layerBase: layerBase{kind: "InputLayer"}, shape: append([]int(nil), shape...)}
}

func (l *inputLayer) Config() map[string]any { return map[string]any{"shape": l.shape} }
func (l *inputLayer) build(in [][]int) ([]int, error) {
	if len(l.shape) == 0 {
		return nil, fmt.Errorf("input shape is empty")
	}
	return l.shape, nil
}

// graph is not called for inputs: the model feeds them.
func (l *inputLayer) graph(b *builder, in []*G.Node) (*G.Node, error) { return in[0], nil }

// Dense ---------------------------------------------------------------------

type dense struct {
	layerBase
	units int
	act   string
	in    int
}

// Dense is a fully connected layer: y = activation(x·kernel + bias), applied
// on the last axis. kernel has shape inputs×units. activation is one of "",
// "linear", "relu", "sigmoid", "tanh", "softmax".
func Dense(units int, activation string) Layer {
	return &dense{layerBase: layerBase{kind: "Dense"}, units: units, act: activation}
}

func (l *dense) Config() map[string]any {
	return map[string]any{"units": l.units, "activation": l.act}
}
func (l *dense) build(in [][]int) ([]int, error) {
	s, err := oneInput(l.kind, in)
	if err != nil {
		return nil, err
	}
	if l.units <= 0 {
		return nil, fmt.Errorf("units must be positive, got %d", l.units)
	}
	if err := checkActivation(l.act); err != nil {
		return nil, err
	}
	l.in = s[len(s)-1]
	l.params = []*Param{newParam("kernel", true, l.in, l.units), newParam("bias", true, l.units)}
	out := append([]int(nil), s...)
	out[len(out)-1] = l.units
	return out, nil
}
func (l *dense) initWeights(rng *rand.Rand) {
	glorotUniform(rng, l.params[0].Value, l.in, l.units)
	clear(l.params[1].Value)
}

func (l *dense) graph(b *builder, in []*G.Node) (*G.Node, error) {
	x := in[0]
	shape := x.Shape().Clone()
	if len(shape) != 2 {
		r, err := G.Reshape(x, tensor.Shape{shape.TotalSize() / l.in, l.in})
		if err != nil {
			return nil, err
		}
		b.noGrad[r] = b.noGrad[x]
		x = r
	}
	z, err := G.Mul(x, b.weight(l.name, l.params[0]))
	if err != nil {
		return nil, err
	}
	if z, err = G.BroadcastAdd(z, b.weight(l.name, l.params[1]), nil, []byte{0}); err != nil {
		return nil, err
	}
	if len(shape) != 2 {
		shape[len(shape)-1] = l.units
		if z, err = G.Reshape(z, shape); err != nil {
			return nil, err
		}
	}
	return b.activate(l.act, z)
}

// Activation ----------------------------------------------------------------

type activationL struct {
	layerBase
	act string
}

// Activation applies an activation function ("linear", "relu", "sigmoid",
// "tanh", "softmax"; softmax works on the last axis).
func Activation(name string) Layer {
	return &activationL{layerBase: layerBase{kind: "Activation"}, act: name}
}

func (l *activationL) Config() map[string]any { return map[string]any{"activation": l.act} }
func (l *activationL) build(in [][]int) ([]int, error) {
	s, err := oneInput(l.kind, in)
	if err != nil {
		return nil, err
	}
	return s, checkActivation(l.act)
}
func (l *activationL) graph(b *builder, in []*G.Node) (*G.Node, error) {
	return b.activate(l.act, in[0])
}

// Flatten -------------------------------------------------------------------

type flatten struct {
	layerBase
}

// Flatten reshapes each example to a vector.
func Flatten() Layer { return &flatten{layerBase: layerBase{kind: "Flatten"}} }

func (l *flatten) Config() map[string]any { return map[string]any{} }
func (l *flatten) build(in [][]int) ([]int, error) {
	s, err := oneInput(l.kind, in)
	if err != nil {
		return nil, err
	}
	return []int{numel(s)}, nil
}
func (l *flatten) graph(b *builder, in []*G.Node) (*G.Node, error) {
	s := in[0].Shape()
	if len(s) == 2 {
		return in[0], nil
	}
	y, err := G.Reshape(in[0], tensor.Shape{s[0], s.TotalSize() / s[0]})
	if err != nil {
		return nil, err
	}
	b.noGrad[y] = b.noGrad[in[0]]
	return y, nil
}

// Dropout -------------------------------------------------------------------

type dropout struct {
	layerBase
	rate float64
}

// Dropout sets a fraction rate of its inputs to zero during training and
// scales the rest by 1/(1-rate); it is the identity at inference. The mask
// comes from the model's seeded random source.
func Dropout(rate float64) Layer {
	return &dropout{layerBase: layerBase{kind: "Dropout"}, rate: rate}
}

func (l *dropout) Config() map[string]any { return map[string]any{"rate": l.rate} }
func (l *dropout) build(in [][]int) ([]int, error) {
	if l.rate < 0 || l.rate >= 1 {
		return nil, fmt.Errorf("dropout rate must be in [0, 1), got %g", l.rate)
	}
	return oneInput(l.kind, in)
}

// graph multiplies by a mask input that is refilled from the model's
// seeded random source before every training step (never gorgonia's
// global random source); at inference the layer is the identity.
func (l *dropout) graph(b *builder, in []*G.Node) (*G.Node, error) {
	x := in[0]
	if !b.training || l.rate == 0 {
		return x, nil
	}
	mask := b.input(l.name+"/mask", x.Shape())
	data := make([]float32, x.Shape().TotalSize())
	if err := G.Let(mask, tensor.New(tensor.WithShape(x.Shape()...), tensor.WithBacking(data))); err != nil {
		return nil, err
	}
	keep := float32(1 / (1 - l.rate))
	b.fills = append(b.fills, func(rng *rand.Rand) {
		for i := range data {
			if rng.Float64() < l.rate {
				data[i] = 0
			} else {
				data[i] = keep
			}
		}
	})
	b.noGrad[mask] = true
	return G.HadamardProd(x, mask)
}

// Conv2D --------------------------------------------------------------------

// Conv2DOptions are the optional settings of Conv2D. The zero value means
// stride 1, "valid" padding and no activation.
type Conv2DOptions struct {
	// Strides is the step in both spatial directions (default 1).
	Strides int
	// Padding is "valid" (default) or "same".
	Padding string
	// Activation is applied to the output ("relu", ...).
	Activation string
}

type conv2d struct {
	layerBase
	filters, k      int
	opt             Conv2DOptions
	h, w, c, oh, ow int
	padT, padL      int
	cols            [][]float32
	colFor          *float32 // input whose columns cols[0] holds (whole batch)
}

// Conv2D is a 2-D convolution over NHWC images with filters output channels
// and a kernel×kernel window; its kernel weight has shape
// kernel×kernel×in_channels×filters (Keras layout). It is computed as im2col
// followed by a matrix product.
func Conv2D(filters, kernel int, opts ...Conv2DOptions) Layer {
	l := &conv2d{layerBase: layerBase{kind: "Conv2D"}, filters: filters, k: kernel}
	if len(opts) > 0 {
		l.opt = opts[0]
	}
	if l.opt.Strides == 0 {
		l.opt.Strides = 1
	}
	if l.opt.Padding == "" {
		l.opt.Padding = "valid"
	}
	return l
}

func (l *conv2d) Config() map[string]any {
	return map[string]any{"filters": l.filters, "kernel_size": l.k, "strides": l.opt.Strides,
		"padding": l.opt.Padding, "activation": l.opt.Activation}
}

// outSize returns the output length and the padding before for one axis.
func outSize(in, k, s int, padding string) (int, int) {
	if padding == "same" {
		o := (in + s - 1) / s
		pad := max((o-1)*s+k-in, 0)
		return o, pad / 2
	}
	return (in-k)/s + 1, 0
}

func (l *conv2d) build(in [][]int) ([]int, error) {
	s, err := oneInput(l.kind, in)
	if err != nil {
		return nil, err
	}
	if len(s) != 3 {
		return nil, fmt.Errorf("Conv2D needs inputs of shape (height, width, channels), got %v", s)
	}
	if l.filters <= 0 || l.k <= 0 || l.opt.Strides <= 0 {
		return nil, fmt.Errorf("Conv2D filters, kernel size and strides must be positive")
	}
	if l.opt.Padding != "valid" && l.opt.Padding != "same" {
		return nil, fmt.Errorf("Conv2D padding must be \"valid\" or \"same\", got %q", l.opt.Padding)
	}
	if err := checkActivation(l.opt.Activation); err != nil {
		return nil, err
	}
	l.h, l.w, l.c = s[0], s[1], s[2]
	l.oh, l.padT = outSize(l.h, l.k, l.opt.Strides, l.opt.Padding)
	l.ow, l.padL = outSize(l.w, l.k, l.opt.Strides, l.opt.Padding)
	if l.oh <= 0 || l.ow <= 0 {
		return nil, fmt.Errorf("Conv2D kernel %d is larger than its input %dx%d", l.k, l.h, l.w)
	}
	l.params = []*Param{newParam("kernel", true, l.k, l.k, l.c, l.filters), newParam("bias", true, l.filters)}
	return []int{l.oh, l.ow, l.filters}, nil
}
func (l *conv2d) initWeights(rng *rand.Rand) {
	glorotUniform(rng, l.params[0].Value, l.k*l.k*l.c, l.k*l.k*l.filters)
	clear(l.params[1].Value)
}

// chunk returns how many examples one im2col buffer holds.
func (l *conv2d) chunk(n int) int {
	per := l.oh * l.ow * l.k * l.k * l.c
	c := max(1, (4<<20)/per)
	return min(c, n)
}

// im2col writes examples [n0, n0+cnt) of x as rows of (kh, kw, c) patches.
func (l *conv2d) im2col(x []float32, n0, cnt int, col []float32) {
	K := l.k * l.k * l.c
	s := l.opt.Strides
	parallel(cnt, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			img := x[(n0+n)*l.h*l.w*l.c:]
			for oy := 0; oy < l.oh; oy++ {
				for ox := 0; ox < l.ow; ox++ {
					row := col[((n*l.oh+oy)*l.ow+ox)*K:][:K]
					i := 0
					for ky := 0; ky < l.k; ky++ {
						iy := oy*s + ky - l.padT
						for kx := 0; kx < l.k; kx++ {
							ix := ox*s + kx - l.padL
							if iy < 0 || iy >= l.h || ix < 0 || ix >= l.w {
								clear(row[i : i+l.c])
							} else {
								copy(row[i:i+l.c], img[(iy*l.w+ix)*l.c:][:l.c])
							}
							i += l.c
						}
					}
				}
			}
		}
	})
}

// col2im adds patch gradients back into dx for examples [n0, n0+cnt).
func (l *conv2d) col2im(col []float32, n0, cnt int, dx []float32) {
	K := l.k * l.k * l.c
	s := l.opt.Strides
	parallel(cnt, func(lo, hi int) {
		for n := lo; n < hi; n++ {
			img := dx[(n0+n)*l.h*l.w*l.c:]
			for oy := 0; oy < l.oh; oy++ {
				for ox := 0; ox < l.ow; ox++ {
					row := col[((n*l.oh+oy)*l.ow+ox)*K:][:K]
					i := 0
					for ky := 0; ky < l.k; ky++ {
						iy := oy*s + ky - l.padT
						for kx := 0; kx < l.k; kx++ {
							ix := ox*s + kx - l.padL
							if iy >= 0 && iy < l.h && ix >= 0 && ix < l.w {
								dst := img[(iy*l.w+ix)*l.c:][:l.c]
								for c, v := range row[i : i+l.c] {
									dst[c] += v
								}
							}
							i += l.c
						}
					}
				}
			}
		}
	})
}

func (l *conv2d) colBuf(i, size int) []float32 {
	for len(l.cols) <= i {
		l.cols = append(l.cols, nil)
	}
	if cap(l.cols[i]) < size {
		l.cols[i] = make([]float32, size)
	}
	return l.cols[i][:size]
}

// graph computes the convolution (with its bias, before the activation) as
// a custom op over NHWC images, im2col and one OpenBLAS matrix product:
// gorgonia's Conv2d works on NCHW images and its transposes took most of a
// training step. The activation uses gorgonia's ops.
func (l *conv2d) graph(b *builder, in []*G.Node) (*G.Node, error) {
	x := in[0]
	w, bias := b.weight(l.name, l.params[0]), b.weight(l.name, l.params[1])
	n := x.Shape()[0]
	K, P, F := l.k*l.k*l.c, l.oh*l.ow, l.filters
	ch := l.chunk(n)
	wrt := b.wrt(x, w, bias)
	back := func(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
		out := make(G.Nodes, 3)
		var err error
		if wrt[0] {
			out[0], err = apply(l.name+"/conv_grad_input", x.Shape(), nil, func(dx []float32, in [][]float32) error {
				wv, dz := in[0], in[1]
				clear(dx)
				for n0 := 0; n0 < n; n0 += ch {
					cnt := min(ch, n-n0)
					dcol := l.colBuf(1, cnt*P*K)
					sgemm(false, true, cnt*P, K, F, 1, dz[n0*P*F:], F, wv, F, 0, dcol, K)
					l.col2im(dcol, n0, cnt, dx)
				}
				return nil
			}, nil, w, grad)
			if err != nil {
				return nil, err
			}
		}
		out[1], err = apply(l.name+"/conv_grad_kernel", l.params[0].Shape, nil, func(dw []float32, in [][]float32) error {
			xv, dz := in[0], in[1]
			for n0 := 0; n0 < n; n0 += ch {
				cnt := min(ch, n-n0)
				col := l.colBuf(0, cnt*P*K)
				if l.colFor != &xv[0] {
					l.im2col(xv, n0, cnt, col)
				}
				beta := float32(1)
				if n0 == 0 {
					beta = 0
				}
				sgemm(true, false, K, F, cnt*P, 1, col, K, dz[n0*P*F:(n0+cnt)*P*F], F, beta, dw, F)
			}
			return nil
		}, nil, x, grad)
		if err != nil {
			return nil, err
		}
		out[2], err = apply(l.name+"/conv_grad_bias", []int{F}, nil, func(db []float32, in [][]float32) error {
			sumRows(in[0], db)
			return nil
		}, nil, grad)
		return out, err
	}
	z, err := apply(l.name+"/conv2d", []int{n, l.oh, l.ow, F}, wrt, func(y []float32, in [][]float32) error {
		xv, wv, bv := in[0], in[1], in[2]
		for n0 := 0; n0 < n; n0 += ch {
			cnt := min(ch, n-n0)
			col := l.colBuf(0, cnt*P*K)
			l.im2col(xv, n0, cnt, col)
			sgemm(false, false, cnt*P, F, K, 1, col, K, wv, F, 0, y[n0*P*F:], F)
		}
		// When the whole batch fits in one column buffer, the kernel
		// gradient reuses it.
		l.colFor = nil
		if ch >= n {
			l.colFor = &xv[0]
		}
		addBias(y, bv)
		return nil
	}, back, x, w, bias)
	if err != nil {
		return nil, err
	}
	return b.activate(l.opt.Activation, z)
}

// MaxPooling2D ----------------------------------------------------------------

// PoolOptions are the optional settings of MaxPooling2D. The zero value
// means strides equal to the pool size and "valid" padding.
type PoolOptions struct {
	// Strides is the step (default: the pool size).
	Strides int
	// Padding is "valid" (default) or "same".
	Padding string
}

type maxPool struct {
	layerBase
	p               int
	opt             PoolOptions
	h, w, c, oh, ow int
	padT, padL      int
	arg             []int32
}

// MaxPooling2D keeps the largest value of every pool×pool window of NHWC
// images.
func MaxPooling2D(pool int, opts ...PoolOptions) Layer {
	l := &maxPool{layerBase: layerBase{kind: "MaxPooling2D"}, p: pool}
	if len(opts) > 0 {
		l.opt = opts[0]
	}
	if l.opt.Strides == 0 {
		l.opt.Strides = pool
	}
	if l.opt.Padding == "" {
		l.opt.Padding = "valid"
	}
	return l
}

func (l *maxPool) Config() map[string]any {
	return map[string]any{"pool_size": l.p, "strides": l.opt.Strides, "padding": l.opt.Padding}
}
func (l *maxPool) build(in [][]int) ([]int, error) {
	s, err := oneInput(l.kind, in)
	if err != nil {
		return nil, err
	}
	if len(s) != 3 {
		return nil, fmt.Errorf("MaxPooling2D needs inputs of shape (height, width, channels), got %v", s)
	}
	if l.p <= 0 || l.opt.Strides <= 0 {
		return nil, fmt.Errorf("MaxPooling2D pool size and strides must be positive")
	}
	if l.opt.Padding != "valid" && l.opt.Padding != "same" {
		return nil, fmt.Errorf("MaxPooling2D padding must be \"valid\" or \"same\", got %q", l.opt.Padding)
	}
	l.h, l.w, l.c = s[0], s[1], s[2]
	l.oh, l.padT = outSize(l.h, l.p, l.opt.Strides, l.opt.Padding)
	l.ow, l.padL = outSize(l.w, l.p, l.opt.Strides, l.opt.Padding)
	if l.oh <= 0 || l.ow <= 0 {
		return nil, fmt.Errorf("MaxPooling2D pool %d is larger than its input %dx%d", l.p, l.h, l.w)
	}
	return []int{l.oh, l.ow, l.c}, nil
}

// graph runs the pooling as a custom op: gorgonia's MaxPool2D works on NCHW
// images and would need two transposes per pass.
func (l *maxPool) graph(b *builder, in []*G.Node) (*G.Node, error) {
	x := in[0]
	n := x.Shape()[0]
	back := func(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
		dx, err := apply(l.name+"/maxpool_grad", x.Shape(), nil, func(dx []float32, in [][]float32) error {
			clear(dx)
			for o, i := range l.arg[:len(in[0])] {
				dx[i] += in[0][o]
			}
			return nil
		}, nil, grad)
		return G.Nodes{dx}, err
	}
	if b.noGrad[x] {
		back = nil
	}
	return apply(l.name+"/maxpool", []int{n, l.oh, l.ow, l.c}, nil, func(y []float32, in [][]float32) error {
		l.pool(in[0], y, n)
		return nil
	}, back, x)
}

// pool writes the window maxima of the n images x into y and their
// positions into l.arg.
func (l *maxPool) pool(x, y []float32, n int) {
	if cap(l.arg) < len(y) {
		l.arg = make([]int32, len(y))
	}
	l.arg = l.arg[:len(y)]
	s := l.opt.Strides
	parallel(n, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			base := b * l.h * l.w * l.c
			for oy := 0; oy < l.oh; oy++ {
				for ox := 0; ox < l.ow; ox++ {
					o := ((b*l.oh+oy)*l.ow + ox) * l.c
					for c := 0; c < l.c; c++ {
						best, bi := float32(0), int32(-1)
						for ky := 0; ky < l.p; ky++ {
							iy := oy*s + ky - l.padT
							if iy < 0 || iy >= l.h {
								continue
							}
							for kx := 0; kx < l.p; kx++ {
								ix := ox*s + kx - l.padL
								if ix < 0 || ix >= l.w {
									continue
								}
								i := base + (iy*l.w+ix)*l.c + c
								if bi < 0 || x[i] > best {
									best, bi = x[i], int32(i)
								}
							}
						}
						y[o+c] = best
						l.arg[o+c] = bi
					}
				}
			}
		}
	})
}
