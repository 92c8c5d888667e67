//go:build race

package render

// encodeUnderRace: the race detector slows shine's encoding loops about
// twentyfold, so the format matrix encodes less audio under -race.
const encodeUnderRace = true
