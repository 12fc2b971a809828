package train

import (
	"context"
	"testing"
)

// BenchmarkCNNStep times one training step of the seed's simple CNN at
// batch 512 on random data.
func BenchmarkCNNStep(b *testing.B) {
	m, _ := Sequential(InputLayer(28, 28, 1), Conv2D(32, 3, Conv2DOptions{Activation: "relu"}), Flatten(), Dense(10, "softmax"))
	m.Compile(CompileOptions{Loss: "sparse_categorical_crossentropy", Metrics: []string{"accuracy"}})
	x := randTensor(1, 512, 28, 28, 1)
	y := Zeros(512)
	for i := range y.Data {
		y.Data[i] = float32(i % 10)
	}
	batch := &Batch{X: []*Tensor{x}, Y: y}
	_ = context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.TrainOnBatch(batch); err != nil {
			b.Fatal(err)
		}
	}
}
