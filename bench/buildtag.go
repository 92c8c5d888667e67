//go:build !purego

package main

// buildTags returns the build tags that change how render encodes: "" in a
// default build (render's SIMD kernels where the CPU has them), "purego"
// when built with -tags purego (the pure-Go path everywhere).
func buildTags() string { return "" }
