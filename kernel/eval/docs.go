package eval

// lookupDoc returns the documentation of name in package path (the package
// doc when name is empty), or "" when none is known.
func lookupDoc(path, name string) string { return "" }
