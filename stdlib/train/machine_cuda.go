//go:build cuda

package train

import G "gorgonia.org/gorgonia"

// newMachine compiles a graph into gorgonia's tape machine, which with the
// cuda build tag is gorgonia v0.9.17's CUDA machine: ops with CUDA kernels
// (gorgonia.org/cu and the kernels of gorgonia's cudagen) run on the GPU,
// values move between devices as needed, and this package's custom ops
// (Conv2D, MaxPooling2D, BatchNormalization, Embedding, the fused
// cross-entropy) stay on the CPU. It needs the CUDA toolkit and a GPU.
func newMachine(g *G.ExprGraph) G.VM { return G.NewTapeMachine(g) }
