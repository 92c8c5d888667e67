//go:build amd64 && !purego

#include "textflag.h"

// The front end's kernels in AVX2 with FMA; kernels.go has their
// definitions in Go and kernels_test.go holds each lane to them.

// func window64AVX2(x, win *[512]float32, y *[64]float32)
//
// y[i] = Σ_{k<8} x[64k+i]·win[64k+i], eight i at a time; the eight taps go
// to two accumulators (k even, k odd), added at the end.
TEXT ·window64AVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ win+8(FP), DI
	MOVQ y+16(FP), DX
	MOVQ $8, CX

wloop:
	VMOVUPS     0(SI), Y0
	VMULPS      0(DI), Y0, Y0
	VMOVUPS     256(SI), Y1
	VMULPS      256(DI), Y1, Y1
	VMOVUPS     512(SI), Y2
	VFMADD231PS 512(DI), Y2, Y0
	VMOVUPS     768(SI), Y3
	VFMADD231PS 768(DI), Y3, Y1
	VMOVUPS     1024(SI), Y2
	VFMADD231PS 1024(DI), Y2, Y0
	VMOVUPS     1280(SI), Y3
	VFMADD231PS 1280(DI), Y3, Y1
	VMOVUPS     1536(SI), Y2
	VFMADD231PS 1536(DI), Y2, Y0
	VMOVUPS     1792(SI), Y3
	VFMADD231PS 1792(DI), Y3, Y1
	VADDPS      Y1, Y0, Y0
	VMOVUPS     Y0, 0(DX)
	ADDQ        $32, SI
	ADDQ        $32, DI
	ADDQ        $32, DX
	DECQ        CX
	JNZ         wloop
	VZEROUPPER
	RET

// func mat32AVX2(dst *[32]float32, rows *[32]float32, coef *float32, m, n int)
//
// For each of m rows r: dst[r] = Σ_{j<n} coef[r·n+j]·rows[j], the 32 lanes
// in Y0–Y3 for even j and Y4–Y7 for odd j (n is even), added at the end.
TEXT ·mat32AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DX
	MOVQ coef+16(FP), DI
	MOVQ m+24(FP), R8

row:
	MOVQ   rows+8(FP), SI
	MOVQ   n+32(FP), CX
	SHRQ   $1, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

col:
	VBROADCASTSS 0(DI), Y8
	VBROADCASTSS 4(DI), Y9
	VFMADD231PS  0(SI), Y8, Y0
	VFMADD231PS  32(SI), Y8, Y1
	VFMADD231PS  64(SI), Y8, Y2
	VFMADD231PS  96(SI), Y8, Y3
	VFMADD231PS  128(SI), Y9, Y4
	VFMADD231PS  160(SI), Y9, Y5
	VFMADD231PS  192(SI), Y9, Y6
	VFMADD231PS  224(SI), Y9, Y7
	ADDQ         $8, DI
	ADDQ         $256, SI
	DECQ         CX
	JNZ          col

	VADDPS  Y4, Y0, Y0
	VADDPS  Y5, Y1, Y1
	VADDPS  Y6, Y2, Y2
	VADDPS  Y7, Y3, Y3
	VMOVUPS Y0, 0(DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	ADDQ    $128, DX
	DECQ    R8
	JNZ     row
	VZEROUPPER
	RET

// Gather indexes (in float32s) of spectrumAVX2: time slots k = 0…7, 8…15
// and 10…17 of one subband in out[k][band].
DATA spectrumIdx<>+0(SB)/4, $0
DATA spectrumIdx<>+4(SB)/4, $32
DATA spectrumIdx<>+8(SB)/4, $64
DATA spectrumIdx<>+12(SB)/4, $96
DATA spectrumIdx<>+16(SB)/4, $128
DATA spectrumIdx<>+20(SB)/4, $160
DATA spectrumIdx<>+24(SB)/4, $192
DATA spectrumIdx<>+28(SB)/4, $224
DATA spectrumIdx<>+32(SB)/4, $256
DATA spectrumIdx<>+36(SB)/4, $288
DATA spectrumIdx<>+40(SB)/4, $320
DATA spectrumIdx<>+44(SB)/4, $352
DATA spectrumIdx<>+48(SB)/4, $384
DATA spectrumIdx<>+52(SB)/4, $416
DATA spectrumIdx<>+56(SB)/4, $448
DATA spectrumIdx<>+60(SB)/4, $480
DATA spectrumIdx<>+64(SB)/4, $320
DATA spectrumIdx<>+68(SB)/4, $352
DATA spectrumIdx<>+72(SB)/4, $384
DATA spectrumIdx<>+76(SB)/4, $416
DATA spectrumIdx<>+80(SB)/4, $448
DATA spectrumIdx<>+84(SB)/4, $480
DATA spectrumIdx<>+88(SB)/4, $512
DATA spectrumIdx<>+92(SB)/4, $544
GLOBL spectrumIdx<>(SB), RODATA|NOPTR, $96

// func spectrumAVX2(out *[18][32]float32, xr *[576]int32, limit float32)
//
// xr[18·band+k] = int32(clamp(out[k][band], ±limit)), truncated: the MDCT's
// output from time-slot rows to subband rows, eight slots per gather; the
// third gather (slots 10…17) rewrites 10…15 with the same values.
TEXT ·spectrumAVX2(SB), NOSPLIT, $0-20
	MOVQ         out+0(FP), SI
	MOVQ         xr+8(FP), DI
	VBROADCASTSS limit+16(FP), Y13
	VXORPS       Y14, Y14, Y14
	VSUBPS       Y13, Y14, Y14          // −limit
	VMOVDQU      spectrumIdx<>+0(SB), Y0
	VMOVDQU      spectrumIdx<>+32(SB), Y1
	VMOVDQU      spectrumIdx<>+64(SB), Y2
	VPCMPEQD     Y15, Y15, Y15
	MOVQ         $32, CX

sloop:
	VMOVDQA    Y15, Y8
	VMOVDQA    Y15, Y9
	VMOVDQA    Y15, Y10
	VGATHERDPS Y8, (SI)(Y0*4), Y3
	VGATHERDPS Y9, (SI)(Y1*4), Y4
	VGATHERDPS Y10, (SI)(Y2*4), Y5
	VMINPS     Y13, Y3, Y3
	VMINPS     Y13, Y4, Y4
	VMINPS     Y13, Y5, Y5
	VMAXPS     Y14, Y3, Y3
	VMAXPS     Y14, Y4, Y4
	VMAXPS     Y14, Y5, Y5
	VCVTTPS2DQ Y3, Y3
	VCVTTPS2DQ Y4, Y4
	VCVTTPS2DQ Y5, Y5
	VMOVDQU    Y3, 0(DI)
	VMOVDQU    Y4, 32(DI)
	VMOVDQU    Y5, 40(DI)
	ADDQ       $4, SI
	ADDQ       $72, DI
	DECQ       CX
	JNZ        sloop
	VZEROUPPER
	RET
