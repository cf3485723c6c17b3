package exposition

import "sync"

// crc32Combine returns the IEEE CRC-32 of a followed by b from crc(a),
// crc(b) and len(b), without the bytes: zlib's crc32_combine. A gzip
// response made of several cached parts, each with its own CRC, needs the
// CRC of their concatenation for its trailer, and hash/crc32 can only
// continue a CRC over the bytes themselves.
//
// Appending zero bytes to a message is a linear map on its CRC; the maps for
// 2^k zero bytes are built once by repeated squaring, and lenB's bits say
// which of them to apply (they commute: all are powers of one map).
func crc32Combine(crcA, crcB uint32, lenB int64) uint32 {
	ops := zeroBytesOps()
	for k := 0; lenB > 0; k, lenB = k+1, lenB>>1 {
		if lenB&1 != 0 {
			crcA = ops[k].times(crcA)
		}
	}
	return crcA ^ crcB
}

// zeroBytesOps returns the maps that append 2^k zero bytes to a CRC, k < 63.
var zeroBytesOps = sync.OnceValue(func() *[63]gf2Matrix {
	var bit gf2Matrix   // one zero bit
	bit[0] = 0xedb88320 // the IEEE polynomial, reflected
	for n, row := 1, uint32(1); n < 32; n, row = n+1, row<<1 {
		bit[n] = row
	}
	var two, four gf2Matrix
	two.square(&bit)
	four.square(&two)
	ops := new([63]gf2Matrix)
	ops[0].square(&four) // eight zero bits
	for k := 1; k < len(ops); k++ {
		ops[k].square(&ops[k-1])
	}
	return ops
})

// gf2Matrix is a 32x32 matrix over GF(2), one column per uint32.
type gf2Matrix [32]uint32

func (m *gf2Matrix) times(vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= m[i]
		}
	}
	return sum
}

// square sets m to a*a.
func (m *gf2Matrix) square(a *gf2Matrix) {
	for n := range a {
		m[n] = a.times(a[n])
	}
}
