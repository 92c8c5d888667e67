package mp3

import "math"

// The front end's two kernels, in pure Go. kernels_amd64.s has the same
// two in AVX2 with FMA, used when the CPU has both (haveSIMD); the Go ones
// run everywhere else and under the purego build tag.
//
// Both compute in float32 and sum in a different order from each other
// (the SIMD ones fuse each multiply and add), so they agree to a few units
// of float32's last place, not bit for bit: kernels_test.go bounds the
// difference on random, full-scale, silent and alternating input, and
// render's SNR tests decode both paths' MP3 with ffmpeg.

// window64Go computes y[i] = Σ_{k<8} x[64k+i]·win[64k+i] for i < 64: the
// polyphase filterbank's 512-tap window over the newest 512 samples.
func window64Go(x, win *[HAN_SIZE]float32, y *[64]float32) {
	for i := range y {
		y[i] = x[i]*win[i] + x[i+64]*win[i+64] + x[i+128]*win[i+128] + x[i+192]*win[i+192] +
			x[i+256]*win[i+256] + x[i+320]*win[i+320] + x[i+384]*win[i+384] + x[i+448]*win[i+448]
	}
}

// mat32Go computes dst[r][0:32] = Σ_{j<n} coef[r·n+j]·rows[j][0:32] for
// r < len(dst): m rows of a product of an m×n matrix (coef, row-major) with
// n vectors of 32 lanes (rows). The filterbank's matrixing is one row (n =
// 64, the lanes are subbands); the MDCT is 18 rows (n = 36, the lanes are
// subbands again, each transformed on its own).
func mat32Go(dst [][32]float32, rows [][32]float32, coef []float32) {
	n := len(rows)
	for r := range dst {
		c := coef[r*n : r*n+n]
		var acc [32]float32
		for j, row := range rows {
			cj := c[j]
			for i := range acc {
				acc[i] += cj * row[i]
			}
		}
		dst[r] = acc
	}
}

// The Go path's front end does not use mat32Go, which costs a product per
// coefficient: it uses the symmetries of the two matrices, as synthcast's
// fixed-point patches did (README.md, patches 1 and 2), for a quarter of
// the filterbank's products and about half of the MDCT's.

// fbRows[i][j] = fbMatrix[0][j][i] for i < 16: the filterbank's first 16
// rows, row-major.
var fbRows = func() (r [16][64]float32) {
	for i := range r {
		for j := range r[i] {
			r[i][j] = fbMatrix[0][j][i]
		}
	}
	return r
}()

// matrixGo computes s[i] = Σ_j fbMatrix[odd][j][i]·y[j] with 512 products
// instead of 2048, from two symmetries of the cosine (M[i][j] below is
// cos((2i+1)(16−j)π/64)):
//
//   - columns: M[i][32−j] = M[i][j] (j = 0…15) and M[i][96−j] = −M[i][j]
//     (j = 33…47), M[i][48] = 0; so y folds into 32 values first;
//   - rows: M[31−i][j] = (−1)^j·M[i][j]; so sums over the even and the odd
//     folded columns give s[i] = even + odd and s[31−i] = even − odd.
func matrixGo(y *[64]float32, s *[32]float32, odd int) {
	// f[k] pairs with column col(k): 0…16 for k ≤ 16, then 33…47.
	var f [32]float32
	for j := range 16 {
		f[j] = y[j] + y[32-j]
	}
	f[16] = y[16]
	for j := 33; j < 48; j++ {
		f[j-16] = y[j] - y[96-j]
	}
	for i := range 16 {
		r := &fbRows[i]
		var even, odds float32
		for k := 0; k < 16; k += 2 {
			even += r[k] * f[k]
			odds += r[k+1] * f[k+1]
		}
		even += r[16] * f[16]
		for k := 17; k < 32; k += 2 { // columns 33, 35, …, 47
			odds += r[k+16] * f[k]
		}
		for k := 18; k < 32; k += 2 { // columns 34, …, 46
			even += r[k+16] * f[k]
		}
		s[i], s[31-i] = even+odds, even-odds
	}
	if odd == 1 {
		for i := 1; i < 32; i += 2 {
			s[i] = -s[i]
		}
	}
}

// mdctWinHalf and mdctCos4 split mdctMatrix in two: mdctWinHalf[j] is the
// sine window (with upstream's halving), mdctCos4[k][n] the 18-point DCT-IV
// cos(π/18·(n+½)(k+½)) times mdctScale.
var mdctWinHalf, mdctCos4 = func() (win [36]float32, cos4 [18][18]float32) {
	for j := range win {
		win[j] = float32(math.Sin(math.Pi/36*(float64(j)+0.5)) * math.MaxInt32 / (1 << 32))
	}
	for k := range cos4 {
		for n := range cos4[k] {
			cos4[k][n] = float32(math.Cos(math.Pi/18*(float64(n)+0.5)*(float64(k)+0.5)) * math.MaxInt32 / (1 << 31) * mdctScale)
		}
	}
	return win, cos4
}()

// mdctGo computes out = the MDCT of each of the 32 subbands in (36 time
// slots each, the newer 18 first if swap is 1), as mat32Go(out, in,
// mdctMatrix[swap]) does, with 36 + 324
// products a subband instead of 648: with J = j+9.5, the cosine c(J) =
// cos(π/18·J·(k+½)) has c(36−J) = c(J+36) = −c(J), so each windowed input
// lands, with a sign, on one of 18 points J = n+½: inputs j = 0…8 at n =
// j+9 (+), j = 9…26 at n = 26−j (−), j = 27…35 at n = j−27 (−), and the
// MDCT is the DCT-IV of those 18 sums.
func mdctGo(in *[36][32]float32, out *[18][32]float32, swap int) {
	first := 18 * swap // where the older granule's slots are
	for band := range 32 {
		var w [36]float32
		for j := range 18 {
			w[j] = in[(first+j)%36][band] * mdctWinHalf[j]
			w[j+18] = in[(first+j+18)%36][band] * mdctWinHalf[j+18]
		}
		var u [18]float32
		for n := range 9 {
			u[n] = -w[26-n] - w[n+27]
			u[n+9] = w[n] - w[17-n]
		}
		for k := range out {
			c := &mdctCos4[k]
			var v float32
			for n := range u {
				v += u[n] * c[n]
			}
			out[k][band] = v
		}
	}
}
