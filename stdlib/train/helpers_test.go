package train

import (
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// randTensor returns a tensor of normal values from a fixed seed.
func randTensor(seed int64, shape ...int) *Tensor {
	r := rand.New(rand.NewSource(seed))
	t := Zeros(shape...)
	for i := range t.Data {
		t.Data[i] = float32(r.NormFloat64())
	}
	return t
}

// fashionOrSkip loads Fashion-MNIST, failing under CI when it is missing.
func fashionOrSkip(t testing.TB) (*TensorDataset, *TensorDataset) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(DefaultFashionMNISTDir, "train-images-idx3-ubyte.gz")); err != nil {
		if _, err2 := os.Stat(filepath.Join(DefaultFashionMNISTDir, "train-images-idx3-ubyte")); err2 != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("Fashion-MNIST missing in %s (apt-get install dataset-fashion-mnist)", DefaultFashionMNISTDir)
			}
			t.Skipf("Fashion-MNIST missing in %s: apt-get install dataset-fashion-mnist", DefaultFashionMNISTDir)
		}
	}
	tr, te, err := FashionMNIST("")
	if err != nil {
		t.Fatal(err)
	}
	return tr, te
}
