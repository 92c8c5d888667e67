package server

import (
	"testing"
	"time"
)

func TestFramesDue(t *testing.T) {
	const rate, fs = 44100, 1152
	frame := durationOf(fs, rate) // 26.12 ms
	lead := 1500 * time.Millisecond
	leadFrames := framesDue(0, lead, 0, rate, fs) // ceil(1.5 s / 26.12 ms) = 58
	if leadFrames != 58 {
		t.Fatalf("framesDue(0, 1.5s, 0) = %d; want 58", leadFrames)
	}
	tests := []struct {
		name     string
		elapsed  time.Duration
		produced int64
		want     int64
	}{
		{"on time", 500 * time.Millisecond, leadFrames, 19},                   // ceil(2.0 s / frame) = 77
		{"early tick renders little", 10 * time.Millisecond, leadFrames, 0},   // 1.51 s still fits in 58 frames (1.515 s)
		{"no time passed", 0, leadFrames, 0},                                  //
		{"ahead already", 200 * time.Millisecond, leadFrames + 20, 0},         // never negative
		{"late tick catches up", 1500 * time.Millisecond, leadFrames + 1, 56}, // ceil(3.0 s / frame) = 115
	}
	for _, tt := range tests {
		got := framesDue(tt.elapsed, lead, tt.produced, rate, fs)
		if got != tt.want {
			t.Errorf("%s: framesDue(%v, %v, %d) = %d; want %d", tt.name, tt.elapsed, lead, tt.produced, got, tt.want)
		}
		// The invariant behind it: after rendering, the audio covers elapsed+lead
		// and exceeds it by less than one frame.
		covered := durationOf((tt.produced+got)*fs, rate)
		if tt.produced+got > 0 && got > 0 && (covered < tt.elapsed+lead || covered-(tt.elapsed+lead) >= frame) {
			t.Errorf("%s: after rendering, audio %v for elapsed+lead %v; want within one frame above", tt.name, covered, tt.elapsed+lead)
		}
	}
}

// A sequence of ticks with jitter keeps the lead within [lead, lead + one tick]
// just after each render, by wall clock: pacing by time, not by tick count.
func TestFramesDueKeepsLeadUnderJitter(t *testing.T) {
	const rate, fs = 48000, 1152
	prebuffer, tick := time.Second, 500*time.Millisecond
	lead := prebuffer + tick
	var produced int64
	elapsed := time.Duration(0)
	jitter := []time.Duration{0, 30, -40, 250, -10, 490, 0, 5, -200, 120} // ms off schedule
	for i := 0; i < 200; i++ {
		produced += framesDue(elapsed, lead, produced, rate, fs)
		ahead := durationOf(produced*fs, rate) - elapsed
		if ahead < lead || ahead > lead+durationOf(fs, rate) {
			t.Fatalf("tick %d at %v: audio ahead %v; want in [%v, %v]", i, elapsed, ahead, lead, lead+durationOf(fs, rate))
		}
		// Until the next tick, the lead decays by at most one tick plus jitter.
		elapsed += tick + jitter[i%len(jitter)]*time.Millisecond/10
	}
}

func TestSamplesInNoOverflow(t *testing.T) {
	d := 100 * 365 * 24 * time.Hour // a century
	if got, want := samplesIn(d, 48000), int64(100*365*24*3600)*48000; got != want {
		t.Errorf("samplesIn(100y, 48000) = %d; want %d", got, want)
	}
	if got := samplesIn(-time.Second, 48000); got != 0 {
		t.Errorf("samplesIn(-1s) = %d; want 0", got)
	}
	if got := durationOf(44100, 44100); got != time.Second {
		t.Errorf("durationOf(44100, 44100) = %v; want 1s", got)
	}
}

func TestFramePlaying(t *testing.T) {
	if got := framePlaying(time.Second, 44100, 1152); got != 38 { // 44100/1152 = 38.28
		t.Errorf("framePlaying(1s) = %d; want 38", got)
	}
	if got := framePlaying(0, 44100, 1152); got != 0 {
		t.Errorf("framePlaying(0) = %d; want 0", got)
	}
}
