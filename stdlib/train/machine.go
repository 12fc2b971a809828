//go:build !cuda

package train

import G "gorgonia.org/gorgonia"

// newMachine compiles a graph into a tape machine on the CPU.
func newMachine(g *G.ExprGraph) G.VM { return G.NewTapeMachine(g) }
