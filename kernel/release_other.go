//go:build !linux

package main

// releaseStartupPages does nothing outside Linux; see release_linux.go.
func releaseStartupPages() int { return 0 }
