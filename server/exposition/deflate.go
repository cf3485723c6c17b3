package exposition

import (
	"bytes"
	"compress/flate"
	"hash/crc32"
	"runtime"
	"sync"
)

// deflateChunk is the size of the pieces compressed in parallel: large
// enough that restarting the DEFLATE dictionary costs little, small enough
// that a few in flight cost little memory.
const deflateChunk = 1 << 20

// deflater compresses a stream of chunks on every CPU at once into one raw
// DEFLATE stream that ends with a sync flush (byte-aligned, no final block):
// each chunk becomes its own sync-flushed stream, and those concatenate into
// one valid stream. It also sums the length and CRC-32 of the input, for the
// gzip trailer. At most a few chunks are in flight.
type deflater struct {
	jobs    chan deflateJob
	free    chan []byte // input buffers done with, for buffer
	wg      sync.WaitGroup
	results []*[]byte // in input order
	size    int64
	crc     uint32
}

type deflateJob struct {
	in    []byte
	out   *[]byte
	owned bool // in came from buffer: recycle it
}

// renderFlatePool keeps the compressors of renders: one costs about a
// megabyte of tables, and every render of every part needs one per CPU.
var renderFlatePool = sync.Pool{New: func() any {
	zw, _ := flate.NewWriter(nil, compressionLevel) // only fails for a bad level
	return zw
}}

func newDeflater() *deflater {
	workers := runtime.GOMAXPROCS(0)
	d := &deflater{jobs: make(chan deflateJob, workers), free: make(chan []byte, 2*workers+1)}
	for range workers {
		d.wg.Go(func() {
			zw := renderFlatePool.Get().(*flate.Writer)
			defer renderFlatePool.Put(zw)
			for job := range d.jobs {
				var out bytes.Buffer
				out.Grow(len(job.in)/4 + 64)
				zw.Reset(&out)
				zw.Write(job.in) // to a bytes.Buffer: cannot fail
				zw.Flush()
				*job.out = out.Bytes()
				if job.owned {
					select {
					case d.free <- job.in[:0]:
					default:
					}
				}
			}
		})
	}
	return d
}

// write queues p, which must not change until close returns.
func (d *deflater) write(p []byte) { d.queue(p, false) }

// buffer returns an empty buffer for writeOwned, recycled when one is free.
func (d *deflater) buffer() []byte {
	select {
	case b := <-d.free:
		return b
	default:
		return make([]byte, 0, deflateChunk+deflateChunk/4)
	}
}

// writeOwned queues a buffer from buffer; the deflater reuses it.
func (d *deflater) writeOwned(p []byte) { d.queue(p, true) }

func (d *deflater) queue(p []byte, owned bool) {
	if len(p) == 0 {
		return
	}
	d.size += int64(len(p))
	d.crc = crc32.Update(d.crc, crc32.IEEETable, p)
	out := new([]byte)
	d.results = append(d.results, out)
	d.jobs <- deflateJob{p, out, owned}
}

// close waits for the compression and returns it as a gzip rendering
// without names.
func (d *deflater) close() *rendering {
	close(d.jobs)
	d.wg.Wait()
	n := 0
	for _, r := range d.results {
		n += len(*r)
	}
	body := make([]byte, 0, n)
	for _, r := range d.results {
		body = append(body, *r...)
	}
	return &rendering{body: body, size: d.size, crc: d.crc}
}
