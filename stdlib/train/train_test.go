package train

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// linearData is a noiseless convex regression problem y = x·w + 0.5.
func linearData(n int) *TensorDataset {
	x := randTensor(7, n, 3)
	y := Zeros(n, 1)
	w := []float32{1.5, -2, 0.7}
	for i := 0; i < n; i++ {
		y.Data[i] = 0.5
		for j := 0; j < 3; j++ {
			y.Data[i] += x.Data[i*3+j] * w[j]
		}
	}
	ds, _ := NewTensorDataset(y, x)
	return ds
}

func TestOptimizersDecreaseLoss(t *testing.T) {
	cases := []struct {
		opt    Optimizer
		epochs int
	}{
		{&SGD{LearningRate: 0.05}, 20},
		{&SGD{LearningRate: 0.02, Momentum: 0.9}, 20},
		{&SGD{LearningRate: 0.02, Momentum: 0.9, Nesterov: true}, 20},
		{&Adam{LearningRate: 0.05}, 20},
		{&RMSprop{LearningRate: 0.02}, 20},
		{&Adagrad{LearningRate: 0.3}, 20},
		{&Adadelta{LearningRate: 1, Epsilon: 1e-4}, 60},
		{&Adamax{LearningRate: 0.05}, 20},
		{&Nadam{LearningRate: 0.05}, 20},
	}
	data := linearData(256)
	for _, c := range cases {
		name := c.opt.Name()
		if s, ok := c.opt.(*SGD); ok && s.Momentum > 0 {
			name += "_momentum"
			if s.Nesterov {
				name += "_nesterov"
			}
		}
		t.Run(name, func(t *testing.T) {
			m, err := Sequential(InputLayer(3), Dense(1, ""))
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Compile(CompileOptions{Optimizer: c.opt, Loss: "mse", Seed: 1}); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			before, err := m.Evaluate(ctx, data, EvaluateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if c.epochs == 0 {
				c.epochs = 20
			}
			if _, err := m.Fit(ctx, data, FitOptions{Epochs: c.epochs, BatchSize: 32, Shuffle: true}); err != nil {
				t.Fatal(err)
			}
			after, _ := m.Evaluate(ctx, data, EvaluateOptions{})
			if !(after["loss"] < 0.1*before["loss"]) {
				t.Fatalf("loss %.4f -> %.4f: want a tenfold decrease", before["loss"], after["loss"])
			}
		})
	}
}

func TestMetricsAndLosses(t *testing.T) {
	m, _ := Sequential(InputLayer(3), Dense(1, ""))
	if err := m.Compile(CompileOptions{Loss: "mse", Metrics: []string{"mse", "rmse", "mae"}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := linearData(64)
	logs, err := m.Evaluate(ctx, data, EvaluateOptions{BatchSize: 10})
	if err != nil {
		t.Fatal(err)
	}
	pred, _ := m.Predict(ctx, data.X...)
	var se, ae float64
	for i, v := range pred.Data {
		d := float64(v - data.Y.Data[i])
		se += d * d
		ae += math.Abs(d)
	}
	n := float64(len(pred.Data))
	want := map[string]float64{"loss": se / n, "mse": se / n, "rmse": math.Sqrt(se / n), "mae": ae / n}
	for k, v := range want {
		if math.Abs(logs[k]-v) > 1e-4*math.Max(1, v) {
			t.Errorf("%s = %v, want %v", k, logs[k], v)
		}
	}
	for _, bad := range []CompileOptions{{Loss: "hinge"}, {Loss: "mse", Metrics: []string{"auc"}}} {
		if err := m.Compile(bad); err == nil {
			t.Errorf("Compile(%+v) accepted an unknown name", bad)
		}
	}
}

func TestSummaryMatchesKeras(t *testing.T) {
	// The seed's simple CNN; Keras reports 320 and 216,330 parameters.
	m, err := Sequential(InputLayer(28, 28, 1), Conv2D(32, 3, Conv2DOptions{Activation: "relu"}), Flatten(), Dense(10, "softmax"))
	if err != nil {
		t.Fatal(err)
	}
	s := m.Summary()
	want := []SummaryRow{
		{Name: "input", Kind: "InputLayer", OutputShape: "(None, 28, 28, 1)"},
		{Name: "conv2d", Kind: "Conv2D", OutputShape: "(None, 26, 26, 32)", Params: 320},
		{Name: "flatten", Kind: "Flatten", OutputShape: "(None, 21632)"},
		{Name: "dense", Kind: "Dense", OutputShape: "(None, 10)", Params: 216330},
	}
	for i, w := range want {
		r := s.Rows[i]
		if r.Name != w.Name || r.Kind != w.Kind || r.OutputShape != w.OutputShape || r.Params != w.Params {
			t.Errorf("row %d = %+v, want %+v", i, r, w)
		}
	}
	if s.Trainable != 216650 || s.NonTrainable != 0 {
		t.Errorf("params %d/%d", s.Trainable, s.NonTrainable)
	}
	html, _ := s.MimeBundle()["text/html"].(string)
	if !strings.Contains(html, "<table") || !strings.Contains(html, "216330") {
		t.Errorf("HTML summary lacks the table: %s", html)
	}
	// BatchNormalization has non-trainable statistics; same padding and
	// pooling shapes follow Keras.
	m2, err := Sequential(InputLayer(28, 28, 1), Conv2D(8, 3, Conv2DOptions{Padding: "same", Strides: 2}), MaxPooling2D(2), BatchNormalization(), Flatten(), Dropout(0.5), Dense(4, "relu"))
	if err != nil {
		t.Fatal(err)
	}
	s2 := m2.Summary()
	if s2.Rows[1].OutputShape != "(None, 14, 14, 8)" || s2.Rows[2].OutputShape != "(None, 7, 7, 8)" || s2.NonTrainable != 16 {
		t.Errorf("summary:\n%s", s2)
	}
	if _, err := Sequential(InputLayer(4, 4, 1), Conv2D(2, 5)); err == nil || !strings.Contains(err.Error(), "conv2d") {
		t.Errorf("oversized kernel: err = %v", err)
	}
}

func smallCNN(t *testing.T, seed int64) (*Model, *TensorDataset) {
	t.Helper()
	m, err := Sequential(InputLayer(8, 8, 1), Conv2D(4, 3, Conv2DOptions{Activation: "relu"}), MaxPooling2D(2), Dropout(0.25), Flatten(), Dense(8, "relu"), BatchNormalization(), Dense(3, "softmax"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(CompileOptions{Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}, Seed: seed}); err != nil {
		t.Fatal(err)
	}
	x := randTensor(5, 96, 8, 8, 1)
	y := Zeros(96)
	for i := range y.Data {
		// The class is which third of the image is brightest.
		var s [3]float32
		for p := 0; p < 64; p++ {
			s[min(p/22, 2)] += x.Data[i*64+p]
		}
		best := 0
		for k := range s {
			if s[k] > s[best] {
				best = k
			}
		}
		y.Data[i] = float32(best)
	}
	ds, _ := NewTensorDataset(y, x)
	return m, ds
}

func TestSaveLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	m, ds := smallCNN(t, 3)
	if _, err := m.Fit(ctx, ds, FitOptions{Epochs: 2, BatchSize: 16, Shuffle: true}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "model.glm")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	p1, _ := m.Predict(ctx, ds.X...)
	p2, err := m2.Predict(ctx, ds.X...)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p1.Data {
		if p1.Data[i] != p2.Data[i] {
			t.Fatalf("prediction %d differs after load: %v vs %v", i, p1.Data[i], p2.Data[i])
		}
	}
	if m2.Summary().String() != m.Summary().String() {
		t.Errorf("architecture differs:\n%s\n%s", m.Summary(), m2.Summary())
	}
	// The loaded model is compiled and can keep training.
	if _, err := m2.Fit(ctx, ds, FitOptions{Epochs: 1, BatchSize: 16}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the model (no temp files)", len(entries))
	}
	// Corruption and truncation are detected.
	data, _ := os.ReadFile(path)
	bad := filepath.Join(dir, "bad.glm")
	os.WriteFile(bad, data[:len(data)-100], 0o644)
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "bad.glm") {
		t.Errorf("truncated file: err = %v", err)
	}
	data[len(data)/2] ^= 0xff
	os.WriteFile(bad, data, 0o644)
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("corrupted file: err = %v", err)
	}
}

func TestSeedReproducible(t *testing.T) {
	ctx := context.Background()
	run := func(seed int64) []float32 {
		m, ds := smallCNN(t, seed)
		if _, err := m.Fit(ctx, ds, FitOptions{Epochs: 2, BatchSize: 16, Shuffle: true}); err != nil {
			t.Fatal(err)
		}
		var all []float32
		for _, w := range m.Weights() {
			all = append(all, w.Value...)
		}
		return all
	}
	a, b, c := run(11), run(11), run(12)
	same := func(x, y []float32) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("same seed gave different weights")
	}
	if same(a, c) {
		t.Error("different seeds gave identical weights")
	}
}

func TestCallbacksStopTraining(t *testing.T) {
	ctx := context.Background()
	t.Run("error_stop", func(t *testing.T) {
		m, ds := smallCNN(t, 1)
		var batches int
		h, err := m.Fit(ctx, ds, FitOptions{Epochs: 10, BatchSize: 16, Callbacks: []Callback{CallbackFuncs{
			BatchEnd: func(e, b int, l Logs) error { batches++; return nil },
			EpochEnd: func(e int, l Logs) error {
				if e == 2 {
					return ErrStopTraining
				}
				return nil
			},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Epochs) != 3 || batches != 3*6 {
			t.Fatalf("ran %d epochs, %d batches; want 3 epochs of 6 batches", len(h.Epochs), batches)
		}
	})
	t.Run("batch_stop", func(t *testing.T) {
		m, ds := smallCNN(t, 1)
		h, err := m.Fit(ctx, ds, FitOptions{Epochs: 10, BatchSize: 16, Callbacks: []Callback{CallbackFuncs{
			BatchEnd: func(e, b int, l Logs) error {
				if e == 1 && b == 2 {
					return ErrStopTraining
				}
				return nil
			},
		}}})
		if err != nil || len(h.Epochs) != 2 {
			t.Fatalf("err %v, %d epochs; want stop during the second epoch", err, len(h.Epochs))
		}
	})
	t.Run("early_stopping", func(t *testing.T) {
		m, ds := smallCNN(t, 1)
		// An impossible MinDelta means no epoch after the first improves.
		es := &EarlyStopping{Monitor: "loss", MinDelta: 1e9, Patience: 2}
		h, err := m.Fit(ctx, ds, FitOptions{Epochs: 20, BatchSize: 32, Callbacks: []Callback{es}})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Epochs) != 4 || es.StoppedEpoch != 3 {
			t.Fatalf("stopped after %d epochs (StoppedEpoch %d), want 4 (3)", len(h.Epochs), es.StoppedEpoch)
		}
		if err := m.Compile(CompileOptions{Loss: "mse"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("early_stopping_unknown_metric", func(t *testing.T) {
		m, ds := smallCNN(t, 1)
		_, err := m.Fit(ctx, ds, FitOptions{Epochs: 2, BatchSize: 32, Callbacks: []Callback{&EarlyStopping{}}})
		if err == nil || !strings.Contains(err.Error(), "val_loss") {
			t.Fatalf("err = %v, want a message naming val_loss", err)
		}
	})
}

func TestCSVLoggerAndCheckpoint(t *testing.T) {
	ctx := context.Background()
	m, ds := smallCNN(t, 2)
	trainSet, valSet := ds.Split(0.25)
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "log.csv")
	ckPath := filepath.Join(dir, "best.glm")
	ck := &ModelCheckpoint{Path: ckPath, Monitor: "val_accuracy", SaveBestOnly: true}
	var vals []float64
	record := CallbackFuncs{EpochEnd: func(e int, l Logs) error { vals = append(vals, l["val_accuracy"]); return nil }}
	h, err := m.Fit(ctx, trainSet, FitOptions{Epochs: 4, BatchSize: 16, Validation: valSet,
		Callbacks: []Callback{&CSVLogger{Path: csvPath}, ck, record}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 || strings.Join(recs[0], ",") != "epoch,datetime_epoch_begin,datetime_epoch_end,accuracy,loss,val_accuracy,val_loss" {
		t.Fatalf("csv:\n%v", recs)
	}
	for i, r := range recs[1:] {
		b, err1 := time.Parse("2006-01-02 15:04:05.000000", r[1])
		e, err2 := time.Parse("2006-01-02 15:04:05.000000", r[2])
		if err1 != nil || err2 != nil || e.Before(b) {
			t.Errorf("row %d timestamps %q %q", i, r[1], r[2])
		}
		if r[4] == "" || r[0] != string(rune('0'+i)) {
			t.Errorf("row %d = %v", i, r)
		}
	}
	// The checkpoint holds the best epoch by val_accuracy.
	best := 0
	for i, v := range vals {
		if v > vals[best] {
			best = i
		}
	}
	if ck.BestEpoch != best || ck.Best != vals[best] {
		t.Errorf("checkpoint best epoch %d (%v), want %d (%v)", ck.BestEpoch, ck.Best, best, vals[best])
	}
	loaded, err := Load(ckPath)
	if err != nil {
		t.Fatal(err)
	}
	l, err := loaded.Evaluate(ctx, valSet, EvaluateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(l["accuracy"]-vals[best]) > 1e-9 {
		t.Errorf("checkpoint model val accuracy %v, want %v", l["accuracy"], vals[best])
	}
	if len(h.Epochs) != 4 {
		t.Errorf("%d epochs", len(h.Epochs))
	}
	b := h.MimeBundle()
	if html, _ := b["text/html"].(string); strings.Count(html, "<svg") != 2 || !strings.Contains(html, "val_accuracy") {
		t.Errorf("history display lacks the loss and accuracy charts or the table:\n%.300s", html)
	}
	if c := h.Chart("accuracy"); c.Err() != nil || !strings.Contains(c.String(), "validation") {
		t.Errorf("accuracy chart: %v\n%s", c.Err(), c)
	}
}

func TestInterruptMidEpoch(t *testing.T) {
	m, ds := smallCNN(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	var steps int
	var snap [][]float32
	h, err := m.Fit(ctx, ds, FitOptions{Epochs: 5, BatchSize: 8, Callbacks: []Callback{CallbackFuncs{
		BatchEnd: func(e, b int, l Logs) error {
			steps++
			if e == 1 && b == 4 {
				cancel() // like the notebook's interrupt button
				snap = snapshot(m)
			}
			return nil
		},
	}}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if steps != 12+5 || len(h.Epochs) != 1 {
		t.Fatalf("ran %d steps and %d full epochs; want to stop right after step 5 of epoch 2", steps, len(h.Epochs))
	}
	for i, w := range m.Weights() {
		for j, v := range w.Value {
			if v != snap[i][j] || math.IsNaN(float64(v)) {
				t.Fatal("weights changed after the interrupt")
			}
		}
	}
	// The model is intact: it predicts and can resume.
	if _, err := m.Predict(context.Background(), ds.X...); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fit(context.Background(), ds, FitOptions{Epochs: 2, InitialEpoch: 1, BatchSize: 8}); err != nil {
		t.Fatal(err)
	}
}

func TestFunctionalMultiInput(t *testing.T) {
	// The taxi DNN shape: one input per feature, an embedded categorical,
	// concatenated into a dense block.
	ctx := context.Background()
	fare, dist, hour := Input(1).Named("fare"), Input(1).Named("distance"), Input(1).Named("hour")
	emb := Apply(Flatten(), Apply(Embedding(24, 4), hour))
	out := Apply(Concatenate(), fare, dist, emb).Then(Dense(8, "relu"), Dense(8, "relu"), Dense(1, ""))
	m, err := NewModel([]*Node{fare, dist, hour}, out)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(m.InputNames(), ","); got != "fare,distance,hour" {
		t.Errorf("inputs %s", got)
	}
	n := 512
	xf, xd, xh, y := randTensor(1, n, 1), randTensor(2, n, 1), Zeros(n, 1), Zeros(n, 1)
	for i := 0; i < n; i++ {
		xh.Data[i] = float32(i % 24)
		y.Data[i] = 2*xf.Data[i] - xd.Data[i] + float32(i%24)/12
	}
	ds, err := NewTensorDataset(y, xf, xd, xh)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Compile(CompileOptions{Optimizer: &Adam{LearningRate: 0.01}, Loss: "mse", Metrics: []string{"rmse"}}); err != nil {
		t.Fatal(err)
	}
	h, err := m.Fit(ctx, ds, FitOptions{Epochs: 30, BatchSize: 32, Shuffle: true})
	if err != nil {
		t.Fatal(err)
	}
	first, last := h.Metrics["rmse"][0], h.Metrics["rmse"][len(h.Epochs)-1]
	if !(last < 0.3*first) {
		t.Fatalf("rmse %.3f -> %.3f", first, last)
	}
	s := m.Summary()
	if got := strings.Join(s.Rows[len(s.Rows)-4].ConnectedTo, ","); got != "fare,distance,flatten" {
		t.Errorf("concatenate connected to %q", got)
	}
	if _, err := m.Predict(ctx, xf, xd); err == nil {
		t.Error("Predict with a missing input succeeded")
	}
	bad := xh.Clone()
	bad.Data[3] = 99
	if _, err := m.Predict(ctx, xf, xd, bad); err == nil || !strings.Contains(err.Error(), "99") {
		t.Errorf("out-of-vocabulary id: err = %v", err)
	}
}

func writeIDX(t *testing.T, path string, gz bool, dims []int, data []byte) {
	var buf bytes.Buffer
	buf.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&buf, binary.BigEndian, uint32(d))
	}
	buf.Write(data)
	b := buf.Bytes()
	if gz {
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(b)
		w.Close()
		b = z.Bytes()
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestIDXAndFashionMNISTLoader(t *testing.T) {
	dir := t.TempDir()
	img := make([]byte, 3*28*28)
	for i := range img {
		img[i] = byte(i % 256)
	}
	writeIDX(t, filepath.Join(dir, "train-images-idx3-ubyte.gz"), true, []int{3, 28, 28}, img)
	writeIDX(t, filepath.Join(dir, "train-labels-idx1-ubyte"), false, []int{3}, []byte{4, 0, 9})
	writeIDX(t, filepath.Join(dir, "t10k-images-idx3-ubyte"), false, []int{1, 28, 28}, img[:784])
	writeIDX(t, filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), true, []int{1}, []byte{7})
	tr, te, err := FashionMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	x := tr.X[0]
	if tr.Len() != 3 || te.Len() != 1 || len(x.Shape) != 4 || x.Shape[3] != 1 {
		t.Fatalf("shapes %v %v", x.Shape, te.X[0].Shape)
	}
	if x.At(1, 0, 5, 0) != float32((784+5)%256)/255 || tr.Y.Data[2] != 9 || te.Y.Data[0] != 7 {
		t.Errorf("values: %v %v", x.At(1, 0, 5, 0), tr.Y.Data)
	}
	// Truncated and foreign files give errors naming the file.
	trunc := filepath.Join(dir, "trunc")
	writeIDX(t, trunc, false, []int{2, 28, 28}, img[:1000])
	if _, err := ReadIDX(trunc); err == nil || !strings.Contains(err.Error(), "trunc") || !strings.Contains(err.Error(), "1000 of 1568") {
		t.Errorf("truncated: %v", err)
	}
	os.WriteFile(trunc, []byte("hello world"), 0o644)
	if _, err := ReadIDX(trunc); err == nil || !strings.Contains(err.Error(), "not an IDX") {
		t.Errorf("foreign: %v", err)
	}
	if _, _, err := FashionMNIST(t.TempDir()); err == nil || !strings.Contains(err.Error(), "dataset-fashion-mnist") {
		t.Errorf("missing: %v", err)
	}
}
