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
// gonum's pure-Go BLAS is used (several times slower; see BLAS). There is
// no GPU path: gorgonia's CUDA support is not used and the cuda build tag
// changes nothing, so the default build needs no GPU.
//
// Why not gorgonia graphs: measured with internal/gorgoniaprobe on two
// cores, a gorgonia v0.9.17 training step of the simple CNN at batch 512
// took 1.7 s (about 200 s per Fashion-MNIST epoch) against about 0.2 CPU
// seconds here; the hand-written layers are also what the gradient checks
// in this package's tests verify.
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
