package train

import (
	"context"
	"testing"
)

func TestImageDataGenerator(t *testing.T) {
	x := randTensor(3, 6, 5, 7, 2)
	t.Run("identity", func(t *testing.T) {
		y := ImageDataGenerator{}.Transform(x, 1)
		for i := range x.Data {
			if x.Data[i] != y.Data[i] {
				t.Fatalf("no-op generator changed value %d", i)
			}
		}
	})
	t.Run("one_pixel_shifts", func(t *testing.T) {
		g := ImageDataGenerator{WidthShift: 1, HeightShift: 1}
		y := g.Transform(x, 9)
		kinds := map[[2]int]int{}
		for n := 0; n < 6; n++ {
			found := false
			for dy := -1; dy <= 1 && !found; dy++ {
				for dx := -1; dx <= 1 && !found; dx++ {
					ok := true
					for r := 0; r < 5 && ok; r++ {
						for c := 0; c < 7 && ok; c++ {
							sr, sc := min(max(r-dy, 0), 4), min(max(c-dx, 0), 6)
							for ch := 0; ch < 2; ch++ {
								if y.At(n, r, c, ch) != x.At(n, sr, sc, ch) {
									ok = false
								}
							}
						}
					}
					if ok {
						found = true
						kinds[[2]int{dy, dx}]++
					}
				}
			}
			if !found {
				t.Fatalf("image %d is not a whole-pixel shift of its source", n)
			}
		}
		if len(kinds) < 2 {
			t.Errorf("all 6 images got the same shift %v", kinds)
		}
	})
	t.Run("seeded", func(t *testing.T) {
		g := ImageDataGenerator{WidthShift: 0.1, HeightShift: 0.1, Zoom: 0.05}
		a, b, c := g.Transform(x, 5), g.Transform(x, 5), g.Transform(x, 6)
		same, diff := true, false
		for i := range a.Data {
			same = same && a.Data[i] == b.Data[i]
			diff = diff || a.Data[i] != c.Data[i]
		}
		if !same || !diff {
			t.Errorf("same seed equal: %v, other seed differs: %v", same, diff)
		}
	})
	t.Run("fit_on_flow", func(t *testing.T) {
		m, ds := smallCNN(t, 1)
		aug, err := ImageDataGenerator{WidthShift: 1, HeightShift: 1, Zoom: 0.05}.Flow(ds)
		if err != nil {
			t.Fatal(err)
		}
		h, err := m.Fit(context.Background(), aug, FitOptions{Epochs: 2, BatchSize: 16, StepsPerEpoch: 4})
		if err != nil || len(h.Epochs) != 2 {
			t.Fatalf("err %v history %v", err, h)
		}
		if _, err := (ImageDataGenerator{}).Flow(&TensorDataset{X: []*Tensor{Zeros(3, 4)}}); err == nil {
			t.Error("Flow accepted non-image input")
		}
	})
}
