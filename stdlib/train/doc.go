// Package train builds and trains neural networks the way Keras does:
// layers (Dense, Conv2D, MaxPooling2D, Flatten, Dropout, BatchNormalization,
// Activation, Embedding, Concatenate) are stacked with Sequential or wired
// with a small functional form (Input, Apply, NewModel), compiled with an
// optimizer, a loss and metrics, and fitted on a Dataset with callbacks and
// live progress in a notebook.
//
// The package computes in float32 on gorgonia (gorgonia.org/gorgonia
// v0.9.17) graphs. Each model builds one expression graph per batch size
// and mode (training or inference) from its layers; gorgonia's symbolic
// differentiation (Grad) adds the gradients, and a tape machine runs the
// forward and backward passes. This package's optimizers then update the
// weights, whose memory the graph's weight nodes share.
//
// gorgonia's own ops compute Dense (matrix product and broadcast add),
// sigmoid, tanh and softmax, Flatten (reshape), Dropout (a product with a
// mask input refilled from the model's seeded random source, never
// gorgonia's global one), Concatenate, the mean squared error and binary
// cross-entropy on sigmoid logits (softplus). The rest are custom gorgonia
// ops (symbolically differentiable, with one op per gradient) whose Do
// calls this package's kernels, because gorgonia v0.9.17 lacks them, gets
// them wrong or is much slower:
//   - Conv2D: im2col and one matrix product over NHWC images. gorgonia's
//     Conv2d works on NCHW images and its transposes took most of its
//     training step (BenchmarkNativeGorgoniaCNNStep).
//   - ReLU: one branch-free pass; gorgonia's Rectify is a comparison and a
//     product, which made a CNN step about twice as slow.
//   - MaxPooling2D and BatchNormalization: NCHW-only in gorgonia;
//     BatchNormalization uses batch statistics and updates the moving ones
//     in training mode, and uses the moving ones at inference.
//   - Embedding: ids arrive as float32 features and are checked.
//   - Sparse categorical cross-entropy: on softmax logits it is computed
//     stably (gorgonia's LogSumExp adds the maximum before the logarithm).
//
// gorgonia's BLAS is set with gorgonia.Use to gonum's with matrix products
// on OpenBLAS, loaded at run time through cgo (Debian package libopenblas0);
// see BLAS. Built with the purego tag or without cgo, or run with
// GOPHERLAB_BLAS=gonum, everything uses gonum's pure Go (slower; figures in
// bench_test.go's benchmarks). Built with the cuda tag, the tape machine is
// gorgonia's CUDA one (it needs the CUDA toolkit); the default build needs
// no GPU.
//
// Data comes from in-memory tensors (NewTensorDataset), MNIST-format IDX
// files (ReadIDX, FashionMNIST), Arrow IPC and Parquet files streamed in
// record batches (NewArrowDataset), optionally augmented with
// ImageDataGenerator. A model saves to a single file atomically (Save, Load)
// and exposes its weights (Model.Weights) for exporters such as ONNX.
//
// One seed (CompileOptions.Seed) makes weight initialisation, shuffling,
// dropout and augmentation reproducible.
package train
