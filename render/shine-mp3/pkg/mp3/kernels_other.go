//go:build !amd64 || purego

package mp3

// haveSIMD is false: this build has only the Go kernels.
const haveSIMD = false

func window64(x, win *[HAN_SIZE]float32, y *[64]float32) { window64Go(x, win, y) }

func mat32(dst [][32]float32, rows [][32]float32, coef []float32) { mat32Go(dst, rows, coef) }

func filterMatrix(y *[64]float32, s *[32]float32, odd int) { matrixGo(y, s, odd) }

func mdct(in *[36][32]float32, out *[18][32]float32, swap int) { mdctGo(in, out, swap) }

func toSpectrum(out *[18][32]float32, xr *[GRANULE_SIZE]int32) { toSpectrumGo(out, xr) }
