//go:build purego

package main

// buildTags returns the build tags that change how render encodes: see
// buildtag.go.
func buildTags() string { return "purego" }
