package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"time"
)

// CompileOptions configure training (Keras's model.compile).
type CompileOptions struct {
	// Optimizer updates the weights; nil means &Adam{}.
	Optimizer Optimizer
	// Loss is "sparse_categorical_crossentropy", "binary_crossentropy" or
	// "mse" (default "mse").
	Loss string
	// Metrics are reported besides the loss: "accuracy", "mse", "rmse",
	// "mae".
	Metrics []string
	// Seed makes weight initialisation (on first compile), shuffling,
	// dropout and augmentation reproducible.
	Seed int64
}

// Compile prepares the model for training. Weights are initialised from
// opts.Seed the first time (a loaded model keeps its weights).
func (m *Model) Compile(opts CompileOptions) error {
	if opts.Optimizer == nil {
		opts.Optimizer = &Adam{}
	}
	if opts.Loss == "" {
		opts.Loss = "mse"
	}
	loss, err := lossByName(opts.Loss)
	if err != nil {
		return err
	}
	var ms []metric
	for _, name := range opts.Metrics {
		mt, err := metricByName(name, loss)
		if err != nil {
			return err
		}
		ms = append(ms, mt)
	}
	if _, ok := loss.(sceLoss); ok && len(m.OutputShape()) != 1 {
		return fmt.Errorf("train: sparse_categorical_crossentropy needs a vector output (classes), model outputs %v", m.OutputShape())
	}
	m.dropGraphs()
	m.loss, m.metrics, m.opts = loss, ms, opts
	m.rng = rand.New(rand.NewSource(opts.Seed ^ 0x5eed))
	if !m.initialized {
		m.initWeights(opts.Seed)
	}
	m.compiled = true
	return nil
}

// Logs maps metric names ("loss", "accuracy", "val_loss", ...) to values.
type Logs map[string]float64

// FitOptions configure Fit (Keras's model.fit arguments).
type FitOptions struct {
	// Epochs is the number of passes (default 1).
	Epochs int
	// BatchSize is the number of examples per step (default 32).
	BatchSize int
	// Shuffle reorders the training data every epoch.
	Shuffle bool
	// Validation, when set, is evaluated after every epoch ("val_" logs).
	Validation Dataset
	// Callbacks are called per batch and per epoch; they can stop training.
	Callbacks []Callback
	// StepsPerEpoch, when positive, fixes the number of batches per epoch
	// (restarting the data when it runs out).
	StepsPerEpoch int
	// Verbose: 0 silent, 1 a live progress bar per epoch, 2 one line per
	// epoch.
	Verbose int
	// InitialEpoch is the epoch to start at (to resume training).
	InitialEpoch int
}

func (m *Model) trainable() []*Param {
	var ps []*Param
	for _, w := range m.Weights() {
		if w.Trainable {
			ps = append(ps, w.Param)
		}
	}
	return ps
}

type accum struct {
	loss, n float64
	sums    []float64
	counts  []float64
}

func (m *Model) newAccum() *accum {
	return &accum{sums: make([]float64, len(m.metrics)), counts: make([]float64, len(m.metrics))}
}

func (a *accum) add(m *Model, loss float64, out, y *Tensor) {
	n := float64(out.Len())
	a.loss += loss * n
	a.n += n
	for i, mt := range m.metrics {
		s, c := mt.update(out, y)
		a.sums[i] += s
		a.counts[i] += c
	}
}

func (a *accum) logs(m *Model, prefix string) Logs {
	l := Logs{prefix + "loss": a.loss / max(a.n, 1)}
	for i, mt := range m.metrics {
		l[prefix+mt.name] = mt.final(a.sums[i], max(a.counts[i], 1))
	}
	return l
}

// TrainOnBatch runs one optimisation step on b and returns the batch loss.
func (m *Model) TrainOnBatch(b *Batch) (float64, error) {
	loss, _, err := m.trainStep(b)
	return loss, err
}

func (m *Model) trainStep(b *Batch) (float64, *Tensor, error) {
	if !m.compiled {
		return 0, nil, errors.New("train: call Compile before training")
	}
	if len(b.X) == 0 {
		return 0, nil, errors.New("train: batch has no inputs")
	}
	p, err := m.program(b.X[0].Len(), true)
	if err != nil {
		return 0, nil, err
	}
	if err := p.run(m, b.X, b.Y); err != nil {
		return 0, nil, err
	}
	loss, err := p.lossValue()
	if err != nil {
		return 0, nil, err
	}
	out, err := p.output()
	if err != nil {
		return 0, nil, err
	}
	for i, prm := range p.b.params {
		g, err := floats(p.grads[i].Value())
		if err != nil {
			return 0, nil, err
		}
		prm.Grad = g
	}
	m.opts.Optimizer.Step(m.trainable())
	return loss, out, nil
}

// StopTraining asks a running Fit to stop after the current batch (for
// callbacks that hold the model).
func (m *Model) StopTraining() { m.stop = true }

// Fit trains the model on data and returns the per-epoch history. When ctx
// is cancelled, Fit stops before the next batch, leaving the weights of the
// last completed step, and returns the history so far with ctx's error.
func (m *Model) Fit(ctx context.Context, data Dataset, opts FitOptions) (*History, error) {
	if !m.compiled {
		return nil, errors.New("train: call Compile before Fit")
	}
	if opts.Epochs <= 0 {
		opts.Epochs = 1
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 32
	}
	h := &History{}
	m.stop = false
	for _, cb := range opts.Callbacks {
		if err := cb.OnTrainBegin(m); err != nil {
			return h, err
		}
	}
	steps := opts.StepsPerEpoch
	if steps <= 0 && data.Len() >= 0 {
		steps = (data.Len() + opts.BatchSize - 1) / opts.BatchSize
	}
	var stopErr error
	var it BatchIterator
	defer func() {
		if it != nil {
			it.Close()
		}
	}()
	pass := 0
	newIter := func(epoch int) error {
		if it != nil {
			it.Close()
		}
		var err error
		it, err = data.Batches(ctx, BatchOptions{BatchSize: opts.BatchSize, Shuffle: opts.Shuffle,
			Seed: m.opts.Seed*1000003 + int64(epoch)*7919 + int64(pass)})
		pass++
		return err
	}
epochs:
	for epoch := opts.InitialEpoch; epoch < opts.Epochs; epoch++ {
		began := time.Now()
		for _, cb := range opts.Callbacks {
			if err := cb.OnEpochBegin(epoch); err != nil {
				stopErr = err
				break epochs
			}
		}
		var bar *progressBar
		if opts.Verbose == 1 {
			bar = newProgressBar(fmt.Sprintf("Epoch %d/%d", epoch+1, opts.Epochs), steps)
		}
		if opts.StepsPerEpoch <= 0 || it == nil {
			if err := newIter(epoch); err != nil {
				return h, err
			}
		}
		acc := m.newAccum()
		for step := 0; opts.StepsPerEpoch <= 0 || step < opts.StepsPerEpoch; step++ {
			if err := ctx.Err(); err != nil {
				if bar != nil {
					bar.done(acc.logs(m, ""), "interrupted")
				}
				return h, err
			}
			b, err := it.Next()
			if err == io.EOF && opts.StepsPerEpoch > 0 {
				// With a fixed number of steps the data restarts when it
				// runs out (an empty dataset still ends the epoch).
				if err := newIter(epoch); err != nil {
					return h, err
				}
				b, err = it.Next()
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				if ctx.Err() != nil {
					return h, ctx.Err()
				}
				return h, fmt.Errorf("train: epoch %d batch %d: %w", epoch+1, step+1, err)
			}
			loss, out, err := m.trainStep(b)
			if err != nil {
				return h, fmt.Errorf("train: epoch %d batch %d: %w", epoch+1, step+1, err)
			}
			acc.add(m, loss, out, b.Y)
			logs := acc.logs(m, "")
			if bar != nil {
				bar.update(step+1, logs)
			}
			for _, cb := range opts.Callbacks {
				if err := cb.OnBatchEnd(epoch, step, logs); err != nil {
					stopErr = err
					break
				}
			}
			if stopErr != nil || m.stop {
				break
			}
		}
		logs := acc.logs(m, "")
		if opts.Validation != nil && stopErr == nil {
			vl, err := m.Evaluate(ctx, opts.Validation, EvaluateOptions{BatchSize: opts.BatchSize})
			if err != nil {
				return h, err
			}
			for k, v := range vl {
				logs["val_"+k] = v
			}
		}
		h.add(epoch, logs, began, time.Now())
		if bar != nil {
			bar.done(logs, fmt.Sprintf("%.1fs", time.Since(began).Seconds()))
		} else if opts.Verbose == 2 {
			publishText(fmt.Sprintf("Epoch %d/%d - %.1fs - %s", epoch+1, opts.Epochs, time.Since(began).Seconds(), formatLogs(logs)))
		}
		for _, cb := range opts.Callbacks {
			if err := cb.OnEpochEnd(epoch, logs); err != nil && stopErr == nil {
				stopErr = err
			}
		}
		if stopErr != nil || m.stop {
			break
		}
	}
	var last Logs
	if n := len(h.Epochs); n > 0 {
		last = h.Logs(n - 1)
	}
	for _, cb := range opts.Callbacks {
		if err := cb.OnTrainEnd(last); err != nil && stopErr == nil {
			stopErr = err
		}
	}
	if stopErr != nil && !errors.Is(stopErr, ErrStopTraining) {
		return h, stopErr
	}
	return h, nil
}

// EvaluateOptions configure Evaluate.
type EvaluateOptions struct {
	// BatchSize is the number of examples per forward pass (default 256).
	BatchSize int
}

// Evaluate returns the loss and metrics of the model on data, in inference
// mode (no dropout, moving batch-norm statistics).
func (m *Model) Evaluate(ctx context.Context, data Dataset, opts EvaluateOptions) (Logs, error) {
	if !m.compiled {
		return nil, errors.New("train: call Compile before Evaluate")
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 256
	}
	acc := m.newAccum()
	err := m.inferBatches(ctx, data, opts.BatchSize, true, func(b *Batch, loss float64, out *Tensor) error {
		acc.add(m, loss, out, b.Y)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if acc.n == 0 {
		return nil, errors.New("train: Evaluate got an empty dataset")
	}
	return acc.logs(m, ""), nil
}

// Predict runs the model in inference mode on x (one tensor per model
// input) and returns the outputs.
func (m *Model) Predict(ctx context.Context, x ...*Tensor) (*Tensor, error) {
	ds, err := NewTensorDataset(nil, x...)
	if err != nil {
		return nil, err
	}
	return m.PredictDataset(ctx, ds, 256)
}

// PredictDataset runs the model in inference mode over every batch of data.
func (m *Model) PredictDataset(ctx context.Context, data Dataset, batchSize int) (*Tensor, error) {
	if !m.initialized {
		m.initWeights(0)
	}
	if batchSize <= 0 {
		batchSize = 256
	}
	var res *Tensor
	err := m.inferBatches(ctx, data, batchSize, false, func(_ *Batch, _ float64, out *Tensor) error {
		if res == nil {
			res = &Tensor{Shape: append([]int{0}, out.Shape[1:]...)}
		}
		res.Data = append(res.Data, out.Data...)
		res.Shape[0] += out.Len()
		return nil
	})
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, errors.New("train: Predict got no examples")
	}
	return res, nil
}

// inferBatches runs the model in inference mode over every batch of data
// and hands each batch with its loss (when withLoss) and output to fn. It
// is the loop that Evaluate and PredictDataset share.
func (m *Model) inferBatches(ctx context.Context, data Dataset, batchSize int, withLoss bool, fn func(b *Batch, loss float64, out *Tensor) error) error {
	it, err := data.Batches(ctx, BatchOptions{BatchSize: batchSize})
	if err != nil {
		return err
	}
	defer it.Close()
	for {
		b, err := it.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if len(b.X) == 0 {
			return errors.New("train: batch has no inputs")
		}
		p, err := m.program(b.X[0].Len(), false)
		if err != nil {
			return err
		}
		y := b.Y
		if !withLoss {
			y = nil
		}
		if err := p.run(m, b.X, y); err != nil {
			return err
		}
		var loss float64
		if withLoss {
			if loss, err = p.lossValue(); err != nil {
				return err
			}
		}
		out, err := p.output()
		if err != nil {
			return err
		}
		if err := fn(b, loss, out); err != nil {
			return err
		}
	}
}
