package mp3

/*
Functions for efficient multiplication operations with 32-bit integers. They rely on bitwise manipulation and shifting to perform multiplication and rounding to achieve fixed-point arithmetic.
*/

func mulR(a, b int32) int32 {
	return int32(((int64(a) * int64(b)) + 0x80000000) >> 32)
}

// mulSR is similar to mulS but with rounding.
func mulSR(a, b int32) int32 {
	return int32(((int64(a) * int64(b)) + 0x40000000) >> 31)
}
