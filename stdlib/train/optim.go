package train

import (
	"math"
)

// Optimizer updates trainable weights from their gradients. The optimizer
// types of this package have Keras's defaults as zero values; for example
// &Adam{} is Adam with learning rate 0.001.
type Optimizer interface {
	// Name returns the optimizer's Keras name ("Adam").
	Name() string
	// Step applies one update to params using their Grad.
	Step(params []*Param)
}

// slots holds per-parameter optimizer state.
type slots map[*Param][][]float32

func (s *slots) get(p *Param, k int) [][]float32 {
	if *s == nil {
		*s = slots{}
	}
	v, ok := (*s)[p]
	if !ok {
		v = make([][]float32, k)
		for i := range v {
			v[i] = make([]float32, len(p.Value))
		}
		(*s)[p] = v
	}
	return v
}

func or(v, d float64) float64 {
	if v == 0 {
		return d
	}
	return v
}

// SGD is stochastic gradient descent with optional (Nesterov) momentum.
type SGD struct {
	// LearningRate defaults to 0.01.
	LearningRate float64
	// Momentum in [0, 1); 0 means plain SGD.
	Momentum float64
	// Nesterov uses Nesterov momentum.
	Nesterov bool
	s        slots
}

// Name returns "SGD".
func (o *SGD) Name() string { return "SGD" }

// Step applies one SGD update.
func (o *SGD) Step(params []*Param) {
	lr := float32(or(o.LearningRate, 0.01))
	m := float32(o.Momentum)
	for _, p := range params {
		if m == 0 {
			for i, g := range p.Grad {
				p.Value[i] -= lr * g
			}
			continue
		}
		v := o.s.get(p, 1)[0]
		for i, g := range p.Grad {
			v[i] = m*v[i] - lr*g
			if o.Nesterov {
				p.Value[i] += m*v[i] - lr*g
			} else {
				p.Value[i] += v[i]
			}
		}
	}
}

// Adam is the Adam optimizer (Kingma & Ba).
type Adam struct {
	// LearningRate defaults to 0.001.
	LearningRate float64
	// Beta1 (0.9), Beta2 (0.999) and Epsilon (1e-7) as in Keras.
	Beta1, Beta2, Epsilon float64
	s                     slots
	t                     int
}

// Name returns "Adam".
func (o *Adam) Name() string { return "Adam" }

// Step applies one Adam update.
func (o *Adam) Step(params []*Param) {
	o.t++
	b1, b2, eps := or(o.Beta1, 0.9), or(o.Beta2, 0.999), or(o.Epsilon, 1e-7)
	lr := or(o.LearningRate, 0.001) * math.Sqrt(1-math.Pow(b2, float64(o.t))) / (1 - math.Pow(b1, float64(o.t)))
	adamLike(&o.s, params, float32(b1), float32(b2), float32(lr), float32(eps))
}

func adamLike(s *slots, params []*Param, b1, b2, lr, eps float32) {
	for _, p := range params {
		st := s.get(p, 2)
		m, v := st[0], st[1]
		for i, g := range p.Grad {
			m[i] = b1*m[i] + (1-b1)*g
			v[i] = b2*v[i] + (1-b2)*g*g
			p.Value[i] -= lr * m[i] / (float32(math.Sqrt(float64(v[i]))) + eps)
		}
	}
}

// RMSprop divides the gradient by a moving root mean square.
type RMSprop struct {
	// LearningRate defaults to 0.001.
	LearningRate float64
	// Rho (0.9) is the decay of the moving average; Epsilon 1e-7.
	Rho, Epsilon float64
	s            slots
}

// Name returns "RMSprop".
func (o *RMSprop) Name() string { return "RMSprop" }

// Step applies one RMSprop update.
func (o *RMSprop) Step(params []*Param) {
	lr, rho, eps := float32(or(o.LearningRate, 0.001)), float32(or(o.Rho, 0.9)), float32(or(o.Epsilon, 1e-7))
	for _, p := range params {
		a := o.s.get(p, 1)[0]
		for i, g := range p.Grad {
			a[i] = rho*a[i] + (1-rho)*g*g
			p.Value[i] -= lr * g / (float32(math.Sqrt(float64(a[i]))) + eps)
		}
	}
}

// Adagrad scales the learning rate by the accumulated squared gradients.
type Adagrad struct {
	// LearningRate defaults to 0.001.
	LearningRate float64
	// InitialAccumulator (0.1) and Epsilon (1e-7) as in Keras.
	InitialAccumulator, Epsilon float64
	s                           slots
}

// Name returns "Adagrad".
func (o *Adagrad) Name() string { return "Adagrad" }

// Step applies one Adagrad update.
func (o *Adagrad) Step(params []*Param) {
	lr, eps := float32(or(o.LearningRate, 0.001)), float32(or(o.Epsilon, 1e-7))
	init := float32(or(o.InitialAccumulator, 0.1))
	for _, p := range params {
		_, seen := o.s[p]
		a := o.s.get(p, 1)[0]
		if !seen {
			for i := range a {
				a[i] = init
			}
		}
		for i, g := range p.Grad {
			a[i] += g * g
			p.Value[i] -= lr * g / (float32(math.Sqrt(float64(a[i]))) + eps)
		}
	}
}

// Adadelta adapts learning rates from moving windows of gradient updates.
type Adadelta struct {
	// LearningRate defaults to 0.001 (Keras's default).
	LearningRate float64
	// Rho (0.95) and Epsilon (1e-7) as in Keras.
	Rho, Epsilon float64
	s            slots
}

// Name returns "Adadelta".
func (o *Adadelta) Name() string { return "Adadelta" }

// Step applies one Adadelta update.
func (o *Adadelta) Step(params []*Param) {
	lr, rho, eps := float32(or(o.LearningRate, 0.001)), float32(or(o.Rho, 0.95)), float64(or(o.Epsilon, 1e-7))
	for _, p := range params {
		st := o.s.get(p, 2)
		a, u := st[0], st[1]
		for i, g := range p.Grad {
			a[i] = rho*a[i] + (1-rho)*g*g
			d := float32(math.Sqrt(float64(u[i])+eps)/math.Sqrt(float64(a[i])+eps)) * g
			u[i] = rho*u[i] + (1-rho)*d*d
			p.Value[i] -= lr * d
		}
	}
}

// Adamax is the infinity-norm variant of Adam.
type Adamax struct {
	// LearningRate defaults to 0.001.
	LearningRate float64
	// Beta1 (0.9), Beta2 (0.999) and Epsilon (1e-7) as in Keras.
	Beta1, Beta2, Epsilon float64
	s                     slots
	t                     int
}

// Name returns "Adamax".
func (o *Adamax) Name() string { return "Adamax" }

// Step applies one Adamax update.
func (o *Adamax) Step(params []*Param) {
	o.t++
	b1, b2, eps := float32(or(o.Beta1, 0.9)), float32(or(o.Beta2, 0.999)), float32(or(o.Epsilon, 1e-7))
	lr := float32(or(o.LearningRate, 0.001) / (1 - math.Pow(float64(b1), float64(o.t))))
	for _, p := range params {
		st := o.s.get(p, 2)
		m, u := st[0], st[1]
		for i, g := range p.Grad {
			m[i] = b1*m[i] + (1-b1)*g
			u[i] = max(b2*u[i], float32(math.Abs(float64(g))))
			p.Value[i] -= lr * m[i] / (u[i] + eps)
		}
	}
}

// Nadam is Adam with Nesterov momentum.
type Nadam struct {
	// LearningRate defaults to 0.001.
	LearningRate float64
	// Beta1 (0.9), Beta2 (0.999) and Epsilon (1e-7) as in Keras.
	Beta1, Beta2, Epsilon float64
	s                     slots
	t                     int
}

// Name returns "Nadam".
func (o *Nadam) Name() string { return "Nadam" }

// Step applies one Nadam update.
func (o *Nadam) Step(params []*Param) {
	o.t++
	b1, b2, eps := or(o.Beta1, 0.9), or(o.Beta2, 0.999), float32(or(o.Epsilon, 1e-7))
	lr := float32(or(o.LearningRate, 0.001))
	t := float64(o.t)
	c1 := float32(b1 / (1 - math.Pow(b1, t+1)))
	c2 := float32((1 - b1) / (1 - math.Pow(b1, t)))
	c3 := float32(1 / (1 - math.Pow(b2, t)))
	fb1, fb2 := float32(b1), float32(b2)
	for _, p := range params {
		st := o.s.get(p, 2)
		m, v := st[0], st[1]
		for i, g := range p.Grad {
			m[i] = fb1*m[i] + (1-fb1)*g
			v[i] = fb2*v[i] + (1-fb2)*g*g
			mh := c1*m[i] + c2*g
			vh := v[i] * c3
			p.Value[i] -= lr * mh / (float32(math.Sqrt(float64(vh))) + eps)
		}
	}
}
