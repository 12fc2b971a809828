package train

import (
	"context"
	"testing"
)

// TestFashionMNISTAccuracy trains the MLP and the seed's simple CNN for two
// epochs on the full Fashion-MNIST training set and checks test accuracy.
func TestFashionMNISTAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("long: trains on Fashion-MNIST")
	}
	tr, te := fashionOrSkip(t)
	cases := []struct {
		name  string
		build func() (*Model, error)
		batch int
		want  float64
	}{
		{"mlp_784_256_10", func() (*Model, error) {
			return Sequential(InputLayer(28, 28, 1), Flatten(), Dense(256, "relu"), Dense(10, "softmax"))
		}, 128, 0.84},
		{"seed_simple_cnn", func() (*Model, error) {
			return Sequential(InputLayer(28, 28, 1), Conv2D(32, 3, Conv2DOptions{Activation: "relu"}), Flatten(), Dense(10, "softmax"))
		}, 256, 0.86},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := c.build()
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Compile(CompileOptions{Optimizer: &Adam{}, Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}, Seed: 1}); err != nil {
				t.Fatal(err)
			}
			h, err := m.Fit(context.Background(), tr, FitOptions{Epochs: 2, BatchSize: c.batch, Shuffle: true, Verbose: 2})
			if err != nil {
				t.Fatal(err)
			}
			logs, err := m.Evaluate(context.Background(), te, EvaluateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: train %v, test %v", c.name, h.Logs(1), logs)
			if logs["accuracy"] < c.want {
				t.Fatalf("test accuracy %.4f < %.2f", logs["accuracy"], c.want)
			}
		})
	}
}
