package train_test

import (
	"context"
	"fmt"

	"github.com/gopherlab/gopherlab/stdlib/train"
)

// The seed notebook's simple CNN, summarised like Keras's model.summary().
func ExampleSequential() {
	model, err := train.Sequential(
		train.InputLayer(28, 28, 1),
		train.Conv2D(32, 3, train.Conv2DOptions{Activation: "relu"}),
		train.Flatten(),
		train.Dense(10, "softmax"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(model.Summary())
	// Output:
	// Layer (type)                 Output Shape              Param #
	// ==============================================================
	// input (InputLayer)           (None, 28, 28, 1)               0
	// conv2d (Conv2D)              (None, 26, 26, 32)            320
	// flatten (Flatten)            (None, 21632)                   0
	// dense (Dense)                (None, 10)                 216330
	// ==============================================================
	// Total params: 216650
	// Trainable params: 216650
	// Non-trainable params: 0
}

// A functional model with one input per feature, as in the taxi DNN:
// numeric inputs and an embedded categorical are concatenated.
func ExampleNewModel() {
	fare := train.Input(1).Named("fare")
	hour := train.Input(1).Named("hour")
	embedded := train.Apply(train.Flatten(), train.Apply(train.Embedding(24, 4), hour))
	out := train.Apply(train.Concatenate(), fare, embedded).Then(
		train.Dense(8, "relu"),
		train.Dense(1, ""),
	)
	model, err := train.NewModel([]*train.Node{fare, hour}, out)
	if err != nil {
		fmt.Println(err)
		return
	}
	err = model.Compile(train.CompileOptions{Optimizer: &train.Adam{LearningRate: 0.01}, Loss: "mse", Metrics: []string{"rmse"}, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	// y = 2·fare + hour/12 on a small grid of examples.
	n := 240
	xf, xh, y := train.Zeros(n, 1), train.Zeros(n, 1), train.Zeros(n, 1)
	for i := 0; i < n; i++ {
		xf.Data[i] = float32(i%10) / 10
		xh.Data[i] = float32(i % 24)
		y.Data[i] = 2*xf.Data[i] + xh.Data[i]/12
	}
	data, _ := train.NewTensorDataset(y, xf, xh)
	history, err := model.Fit(context.Background(), data, train.FitOptions{Epochs: 40, BatchSize: 16, Shuffle: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	rmse := history.Metrics["rmse"]
	fmt.Println("inputs:", model.InputNames())
	fmt.Println("rmse fell below a tenth of its start:", rmse[len(rmse)-1] < rmse[0]/10)
	// Output:
	// inputs: [fare hour]
	// rmse fell below a tenth of its start: true
}
