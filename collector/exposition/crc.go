package exposition

// crc32Combine returns the IEEE CRC-32 of a followed by b from crc(a),
// crc(b) and len(b), in O(log len(b)) without the bytes: zlib's
// crc32_combine. A gzip response made of several cached parts, each with
// its own CRC, needs the CRC of their concatenation for its trailer, and
// hash/crc32 can only continue a CRC over the bytes themselves.
//
// Appending n zero bits to a message is a linear map on its CRC; the map
// for len(b) bytes is built by repeated squaring of the one-zero-bit map.
func crc32Combine(crcA, crcB uint32, lenB int64) uint32 {
	if lenB <= 0 {
		return crcA
	}
	var even, odd gf2Matrix
	odd[0] = 0xedb88320 // the IEEE polynomial, reflected: one zero bit
	for n, row := 1, uint32(1); n < 32; n, row = n+1, row<<1 {
		odd[n] = row
	}
	even.square(&odd) // two zero bits
	odd.square(&even) // four zero bits
	// Squaring once more gives one zero byte, then two, four...: apply the
	// powers that make up lenB.
	for {
		even.square(&odd)
		if lenB&1 != 0 {
			crcA = even.times(crcA)
		}
		if lenB >>= 1; lenB == 0 {
			break
		}
		odd.square(&even)
		if lenB&1 != 0 {
			crcA = odd.times(crcA)
		}
		if lenB >>= 1; lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
}

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
