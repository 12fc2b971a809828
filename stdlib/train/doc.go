// Package train builds and trains neural networks the way Keras does:
// layers (Dense, Conv2D, MaxPooling2D, Flatten, Dropout, BatchNormalization,
// Activation, Embedding, Concatenate) are stacked with Sequential or wired
// with a small functional form (Input, Apply, NewModel), compiled with an
// optimizer, a loss and metrics, and fitted on a Dataset with callbacks and
// live progress in a notebook.
//
// The package computes in float32 on the CPU. Forward and backward passes are
// written per layer (Conv2D uses im2col and a matrix product); the matrix
// products go to OpenBLAS through cgo (Debian package libopenblas-dev) unless
// the package is built with the purego tag or without cgo, in which case
// gonum's pure-Go BLAS is used. There is no GPU path: the cuda build tag is
// not supported.
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
