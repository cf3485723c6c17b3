package config

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxConfigFileBytes bounds what is read of the configuration file: some
// 6,000 companies.
const MaxConfigFileBytes = 1 << 20

// readRegularFile reads the file at path, which must be a regular file
// (a symbolic link to one is fine) of at most max bytes. It opens it with
// O_NONBLOCK, so that opening a FIFO without a writer returns at once
// instead of blocking for ever (a reload held its lock that way), and
// refuses a FIFO, a device, a socket or a directory before reading: reading
// /dev/zero never ends. A hung network mount still blocks; nothing short of
// a separate process avoids that. The size is checked before reading and
// while reading, as the file may grow.
func readRegularFile(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err // *fs.PathError names the file
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file but %s", path, fileKind(info.Mode()))
	}
	if info.Size() > max {
		return nil, &tooLargeError{path: path, max: max}
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, &tooLargeError{path: path, max: max}
	}
	return b, nil
}

// tooLargeError is a file over the size read.
type tooLargeError struct {
	path string
	max  int64
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %d bytes", e.path, e.max)
}

// fileKind names the type of a file that is not a regular one.
func fileKind(m fs.FileMode) string {
	switch t := m.Type(); {
	case t&fs.ModeDir != 0:
		return "a directory"
	case t&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeCharDevice != 0:
		return "a character device"
	case t&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}
