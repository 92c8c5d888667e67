package server

import "time"

// Pacing is a pure function of (elapsed time, lead, frames produced): the
// wheel asks each tick how many frames a stream needs, so a late tick catches
// up and an early one does not race ahead (DESIGN invariant 4).

// samplesIn returns how many samples at rate fit in d, rounded down, without
// overflowing for any d a process may live.
func samplesIn(d time.Duration, rate int) int64 {
	if d <= 0 {
		return 0
	}
	sec, rem := int64(d/time.Second), int64(d%time.Second)
	return sec*int64(rate) + rem*int64(rate)/int64(time.Second)
}

// durationOf returns the duration of n samples at rate, rounded down.
func durationOf(n int64, rate int) time.Duration {
	sec, rem := n/int64(rate), n%int64(rate)
	return time.Duration(sec)*time.Second + time.Duration(rem*int64(time.Second)/int64(rate))
}

// framesDue returns how many frames of frameSamples samples to render now so
// that the audio produced since the session began covers elapsed+lead (rounded
// up to a whole frame), given that produced frames exist already. It is never
// negative: an early call renders nothing.
func framesDue(elapsed, lead time.Duration, produced int64, rate, frameSamples int) int64 {
	target := samplesIn(elapsed+lead, rate)
	frames := (target + int64(frameSamples) - 1) / int64(frameSamples)
	return max(frames-produced, 0)
}

// framePlaying returns the index of the frame a real-time player that began
// at the session's start is playing after elapsed.
func framePlaying(elapsed time.Duration, rate, frameSamples int) int64 {
	return samplesIn(elapsed, rate) / int64(frameSamples)
}
