//go:build !race

package render

// encodeUnderRace: see encode_race_test.go.
const encodeUnderRace = false
