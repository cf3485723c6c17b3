package kinsta

import (
	"errors"
	"io"
)

// errTooLarge reports a body over the configured maximum.
var errTooLarge = errors.New("response body too large")

const (
	firstChunk = 32 << 10
	maxChunk   = 1 << 20
)

// readCapped reads at most max bytes of r and fails with errTooLarge as soon
// as there is one byte more, so a runaway body is never buffered past max.
//
// It reads into chunks of growing size, at most 1 MiB each, instead of one
// doubling slice (io.ReadAll, json.Decoder): a doubling buffer that hits a
// 64 MiB cap holds about 200 MB at the moment it copies, while chunks never
// hold much more than the cap. sizeHint (Content-Length, or -1) lets a body of
// known size be read into a single exact allocation.
func readCapped(r io.Reader, max, sizeHint int64) ([]byte, error) {
	if sizeHint > max {
		return nil, errTooLarge
	}
	lr := &io.LimitedReader{R: r, N: max + 1}
	size := int64(firstChunk)
	if sizeHint >= 0 {
		// +1 so a body of exactly sizeHint bytes sees EOF in the same chunk.
		size = sizeHint + 1
	}
	var chunks [][]byte
	var total int64
	for {
		chunk := make([]byte, min(size, max+1-total))
		n, err := readFull(lr, chunk)
		total += int64(n)
		if n > 0 {
			chunks = append(chunks, chunk[:n])
		}
		if total > max {
			return nil, errTooLarge
		}
		if err == io.EOF {
			return join(chunks, total), nil
		}
		if err != nil {
			return nil, err
		}
		size = min(size*2, maxChunk)
	}
}

// readFull is io.ReadFull that keeps the reader's own error: io.ReadFull
// turns a clean EOF after a short read into io.ErrUnexpectedEOF, which would
// hide whether the body ended or broke.
func readFull(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func join(chunks [][]byte, total int64) []byte {
	switch len(chunks) {
	case 0:
		return nil
	case 1:
		return chunks[0]
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out
}

// cappedReader is readCapped for a body decoded as it arrives: it hands out
// at most max bytes of r and fails with errTooLarge as soon as there is one
// byte more, so nothing past max is ever read into memory. Its first error
// other than io.EOF sticks, so that the caller can tell a broken or oversized
// body from a body that does not decode.
type cappedReader struct {
	r    io.Reader
	left int64 // bytes still allowed
	err  error
}

// countedReader counts the bytes read through it.
type countedReader struct {
	r io.Reader
	n int64
}

func (c *countedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func newCappedReader(r io.Reader, max int64) *cappedReader {
	return &cappedReader{r: r, left: max}
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	// One byte more than allowed is asked for, to see whether there is one.
	if int64(len(p)) > c.left {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	if int64(n) > c.left {
		n, err = int(c.left), errTooLarge
	}
	c.left -= int64(n)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// streamCapped passes r to decode as it arrives, cut at max bytes, and
// returns either the error of reading r (bodyErr: errTooLarge past max or
// when size, a Content-Length or -1, already says so, or r's own) or the
// error of decoding it. readCapped read the whole body before decoding, so a
// broken or oversized body was reported as such even where its start did not
// decode; after a decoding error the rest of r is read to keep that order.
func streamCapped(r io.Reader, max, size int64, decode func(io.Reader) error) (bodyErr, decodeErr error) {
	if size > max {
		return errTooLarge, nil
	}
	body := newCappedReader(r, max)
	err := decode(body)
	if err != nil {
		_, _ = io.Copy(io.Discard, body)
	}
	if body.err != nil {
		return body.err, nil
	}
	return nil, err
}
