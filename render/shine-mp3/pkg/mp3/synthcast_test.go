package mp3

import (
	"math/rand/v2"
	"testing"
)

// The synthcast patches (README.md) compute the filterbank matrix and the
// MDCT with fewer products than upstream. These tests hold them to
// upstream's full products, on random input over the whole range the
// encoder feeds them.

// fullMatrix is upstream's filterbank matrixing: all 2048 products.
func fullMatrix(sb *Subband, y *[64]int32, s *[32]int32) {
	for i := range s {
		var v int32
		for j := range y {
			v += int32((int64(sb.Fl[i][j]) * int64(y[j])) >> 32)
		}
		s[i] = v
	}
}

// fullMDCT is upstream's MDCT: the 18×36 matrix CosL.
func fullMDCT(m *MDCT, in *[36]int32, out *[18]int32) {
	for k := range out {
		var v int32
		for j := range in {
			v += mul(in[j], m.CosL[k][j])
		}
		out[k] = v
	}
}

func newTestEncoder() *Encoder {
	enc := &Encoder{}
	enc.subbandInitialize()
	enc.mdctInitialize()
	return enc
}

// TestFilterbankSymmetries checks the symmetries matrix relies on, on the
// integer table: exact in the cosines, they hold to a few units of the last
// bit in Fl, since upstream's PI64 is π/64 to 12 digits (an angle error of
// up to 2e-8 at the largest arguments, 45 units of 2^-31).
func TestFilterbankSymmetries(t *testing.T) {
	fl := &newTestEncoder().fe.subband.Fl
	near := func(a, b int32) bool { return int64(a)-int64(b) <= 64 && int64(b)-int64(a) <= 64 }
	for i := range 32 {
		for j := 0; j <= 16; j++ {
			if !near(fl[i][j], fl[i][32-j]) {
				t.Errorf("Fl[%d][%d] = %d, Fl[%d][%d] = %d; want equal", i, j, fl[i][j], i, 32-j, fl[i][32-j])
			}
		}
		for j := 33; j < 64; j++ {
			if !near(fl[i][j], -fl[i][96-j]) {
				t.Errorf("Fl[%d][%d] = %d, Fl[%d][%d] = %d; want opposite", i, j, fl[i][j], i, 96-j, fl[i][96-j])
			}
		}
		if !near(fl[i][48], 0) { // matrix leaves column 48 out
			t.Errorf("Fl[%d][48] = %d; want 0", i, fl[i][48])
		}
		for j := range 64 {
			sign := int32(1 - 2*(j&1))
			if !near(fl[31-i][j], sign*fl[i][j]) {
				t.Errorf("Fl[%d][%d] = %d, Fl[%d][%d] = %d; want (-1)^j apart", 31-i, j, fl[31-i][j], i, j, fl[i][j])
			}
		}
	}
}

// maxDiff is the largest difference allowed between a patched sum and
// upstream's, in units of the last bit: every truncated product may round
// the other way, and the two-step MDCT loses a bit per product.
const maxDiff = 64

// checkAgainstFull feeds compute 20000 random inputs of n values, from
// quiet to full scale, and fails unless what it got stays within maxDiff
// units of the last bit of what it wanted (upstream's full product).
func checkAgainstFull(t *testing.T, name string, seed uint64, n int, compute func(in []int32) (got, want []int32)) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed+1))
	in := make([]int32, n)
	worst := int64(0)
	for iter := range 20000 {
		amp := int64(1) << (16 + iter%16)
		for j := range in {
			in[j] = int32(r.Int64N(2*amp) - amp)
		}
		got, want := compute(in)
		for i := range got {
			d := int64(got[i]) - int64(want[i])
			worst = max(worst, d, -d)
		}
	}
	t.Logf("%s: largest difference from the full product: %d (of 2^31)", name, worst)
	if worst > maxDiff {
		t.Errorf("%s differs from the full product by %d; want <= %d", name, worst, maxDiff)
	}
}

func TestMatrixMatchesFullProduct(t *testing.T) {
	sb := &newTestEncoder().fe.subband
	var got, want [32]int32
	checkAgainstFull(t, "matrix", 1, 64, func(in []int32) ([]int32, []int32) {
		sb.matrix((*[64]int32)(in), &got)
		fullMatrix(sb, (*[64]int32)(in), &want)
		return got[:], want[:]
	})
}

func TestMDCTMatchesFullProduct(t *testing.T) {
	m := &newTestEncoder().fe.mdct
	var got, want [18]int32
	checkAgainstFull(t, "mdct18", 3, 36, func(in []int32) ([]int32, []int32) {
		mdct18((*[36]int32)(in), &got)
		fullMDCT(m, (*[36]int32)(in), &want)
		return got[:], want[:]
	})
}

func BenchmarkMatrix(b *testing.B) {
	sb := &newTestEncoder().fe.subband
	var y [64]int32
	for j := range y {
		y[j] = int32(j * 12345)
	}
	var s [32]int32
	b.ReportAllocs()
	for b.Loop() {
		sb.matrix(&y, &s)
	}
}

func BenchmarkMDCT18(b *testing.B) {
	var in [36]int32
	for j := range in {
		in[j] = int32(j * 54321)
	}
	var out [18]int32
	b.ReportAllocs()
	for b.Loop() {
		mdct18(&in, &out)
	}
}
