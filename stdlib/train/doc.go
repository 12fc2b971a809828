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
// differentiation (Grad) adds the gradients and a tape machine runs forward
// and backward passes; this package's optimizers update the weights, whose
// memory the graph nodes share. Dense, Activation, Flatten, Dropout (a mask
// input refilled from the model's seeded random source) and Concatenate use
// gorgonia's ops (matrix product, broadcast add, Rectify, Sigmoid, Tanh,
// SoftMax, Reshape, Concat). Some layers are custom gorgonia ops whose Do
// calls this package's kernels: Conv2D (im2col and one matrix product over
// NHWC images; gorgonia's Conv2d works on NCHW images and its transposes
// took most of a 1.2 s training step of the simple CNN at batch 512),
// MaxPooling2D (also NCHW in gorgonia), BatchNormalization (training and
// inference modes over the last axis), Embedding (float ids, checked) and
// sparse categorical cross-entropy on softmax logits (gorgonia's LogSumExp
// is wrong in v0.9.17).
//
// gorgonia's BLAS is set with gorgonia.Use to gonum's with matrix products
// on OpenBLAS, loaded at run time through cgo (Debian package libopenblas0);
// see BLAS. Measured on two shared cores, a CNN training step takes about
// 0.33 s with OpenBLAS against 1.2 s with gonum's pure-Go BLAS and
// gorgonia's own Conv2d. Built with the purego tag or without cgo, or with
// GOPHERLAB_BLAS=gonum, everything runs on gonum's pure Go. Built with the
// cuda tag, the tape machine is gorgonia's CUDA one (it needs the CUDA
// toolkit); the default build needs no GPU.
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
