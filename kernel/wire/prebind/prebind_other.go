//go:build !linux

package prebind

// Take reports that nothing was bound at start: prebinding is done on
// Linux only.
func Take(addr string) (fd int, ok bool) { return -1, false }
