package kinsta

import (
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxTokenBytes bounds one JSON string or number of a streamed body, in
// bytes of the body. Nothing the exporter reads comes near it; a 60 MB
// string took some 160 MB of heap in json.Decoder.
const maxTokenBytes = 1 << 20

// tokenTooLongError is a string or number longer than maxTokenBytes that
// starts at byte Offset of the body.
type tokenTooLongError struct{ Offset int64 }

func (e *tokenTooLongError) Error() string {
	return fmt.Sprintf("JSON string or number longer than %d bytes at byte %d", maxTokenBytes, e.Offset)
}

// jsonSyntaxError is a body that is not JSON, worded as encoding/json words
// it, at byte Offset.
type jsonSyntaxError struct {
	msg    string
	Offset int64
}

func (e *jsonSyntaxError) Error() string { return e.msg }

// syntaxError reports c, at the read position, where it may not come.
func (t *jsonTokens) syntaxError(c byte, context string) error {
	return &jsonSyntaxError{msg: "invalid character " + quoteChar(c) + " " + context, Offset: t.offset() + 1}
}

// quoteChar formats c as encoding/json's errors do.
func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	s := strconv.Quote(string(rune(c)))
	return "'" + s[1:len(s)-1] + "'"
}

// offset is the position in the body of the next byte to read.
func (t *jsonTokens) offset() int64 { return t.base + int64(t.pos) }

// inputEnded is the error of a body that ends (or fails) where more was
// needed: eof when it ended, else the reader's error.
func (t *jsonTokens) inputEnded(eof error) error {
	if t.rerr == io.EOF {
		return eof
	}
	return t.rerr
}

// fill makes sure buf has a byte to read, reading when it is drained; false
// at the end of the body or on a read error.
func (t *jsonTokens) fill() bool {
	if t.pos < t.filled {
		return true
	}
	t.base += int64(t.filled)
	t.pos, t.filled = 0, 0
	return t.ensure(1)
}

// ensure makes sure buf holds n bytes from pos (n at most its size),
// moving the unread bytes to its start to read more; false if the body ends
// or fails first.
func (t *jsonTokens) ensure(n int) bool {
	for tries := 0; t.filled-t.pos < n; tries++ {
		if t.rerr != nil {
			return false
		}
		if t.pos > 0 {
			copy(t.buf, t.buf[t.pos:t.filled])
			t.base += int64(t.pos)
			t.filled -= t.pos
			t.pos = 0
		}
		m, err := t.r.Read(t.buf[t.filled:])
		t.filled += m
		t.rerr = err
		if m > 0 {
			tries = 0
		} else if tries >= 100 && err == nil {
			t.rerr = io.ErrNoProgress // as bufio.Reader gives up
		}
	}
	return true
}

// peekNonSpace skips white space and returns the next byte unread; false
// at the end of the body or on a read error.
func (t *jsonTokens) peekNonSpace() (byte, bool) {
	for t.fill() {
		for ; t.pos < t.filled; t.pos++ {
			if c := t.buf[t.pos]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
				return c, true
			}
		}
	}
	return 0, false
}

// readString reads a string whose opening quote was read into t.text,
// decoded as json.Unmarshal decodes it.
func (t *jsonTokens) readString() error {
	start := t.offset() - 1
	t.text = t.text[:0]
	for raw := 0; ; {
		if !t.fill() {
			return t.inputEnded(io.ErrUnexpectedEOF)
		}
		i := t.pos
		for i < t.filled {
			if c := t.buf[i]; c == '"' || c == '\\' || c < 0x20 {
				break
			}
			i++
		}
		t.text = append(t.text, t.buf[t.pos:i]...)
		raw += i - t.pos
		t.pos = i
		if raw > maxTokenBytes {
			return &tokenTooLongError{Offset: start}
		}
		if i == t.filled {
			continue
		}
		switch c := t.buf[i]; {
		case c == '"':
			t.pos++
			t.fixUTF8()
			return nil
		case c < 0x20:
			return t.syntaxError(c, "in string literal")
		}
		n, err := t.escape()
		if err != nil {
			return err
		}
		raw += n
	}
}

// escape decodes the escape sequence at pos into t.text and returns its
// length in the body.
func (t *jsonTokens) escape() (int, error) {
	if !t.ensure(2) {
		return 0, t.inputEnded(io.ErrUnexpectedEOF)
	}
	e := t.buf[t.pos+1]
	switch e {
	case '"', '\\', '/':
		t.text = append(t.text, e)
	case 'b':
		t.text = append(t.text, '\b')
	case 'f':
		t.text = append(t.text, '\f')
	case 'n':
		t.text = append(t.text, '\n')
	case 'r':
		t.text = append(t.text, '\r')
	case 't':
		t.text = append(t.text, '\t')
	case 'u':
		return t.unicodeEscape()
	default:
		t.pos++
		return 0, t.syntaxError(e, "in string escape code")
	}
	t.pos += 2
	return 2, nil
}

// unicodeEscape decodes \uXXXX at pos, and the \uXXXX after it when the two
// are a surrogate pair; a lone surrogate is U+FFFD, as in encoding/json.
func (t *jsonTokens) unicodeEscape() (int, error) {
	if !t.ensure(6) {
		return 0, t.inputEnded(io.ErrUnexpectedEOF)
	}
	r, bad := hex4(t.buf[t.pos+2 : t.pos+6])
	if bad >= 0 {
		t.pos += 2 + bad
		return 0, t.syntaxError(t.buf[t.pos], "in \\u hexadecimal character escape")
	}
	t.pos += 6
	n := 6
	if utf16.IsSurrogate(r) {
		pair := utf8.RuneError
		if t.ensure(6) && t.buf[t.pos] == '\\' && t.buf[t.pos+1] == 'u' {
			if r2, bad := hex4(t.buf[t.pos+2 : t.pos+6]); bad < 0 {
				pair = utf16.DecodeRune(r, r2)
			}
		}
		r = pair
		if pair != utf8.RuneError {
			t.pos += 6
			n += 6
		}
	}
	t.text = utf8.AppendRune(t.text, r)
	return n, nil
}

// hex4 decodes four hex digits; bad is the index of the first non-digit, or -1.
func hex4(b []byte) (r rune, bad int) {
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, i
		}
		r = r<<4 | rune(c)
	}
	return r, -1
}

// fixUTF8 replaces each byte of t.text that is not part of valid UTF-8
// with U+FFFD, as json.Unmarshal does. Escapes decode to valid UTF-8 that
// cannot merge with a stray byte before it, so checking the decoded text
// is checking the body's.
func (t *jsonTokens) fixUTF8() {
	if utf8.Valid(t.text) {
		return
	}
	out := t.alt[:0]
	for i := 0; i < len(t.text); {
		r, size := utf8.DecodeRune(t.text[i:])
		if r == utf8.RuneError && size == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, t.text[i:i+size]...)
		}
		i += size
	}
	t.alt, t.text = t.text, out
}

// readNumber reads a number token into t.text.
func (t *jsonTokens) readNumber() error {
	start := t.offset()
	t.text = t.text[:0]
	for t.fill() {
		i := t.pos
		for i < t.filled && isNumberByte(t.buf[i]) {
			i++
		}
		t.text = append(t.text, t.buf[t.pos:i]...)
		t.pos = i
		if len(t.text) > maxTokenBytes {
			return &tokenTooLongError{Offset: start}
		}
		if i < t.filled {
			break
		}
	}
	if t.rerr != nil && t.rerr != io.EOF && t.pos == t.filled {
		return t.rerr
	}
	if n := validNumberPrefix(t.text); n < len(t.text) {
		return &jsonSyntaxError{msg: "invalid character " + quoteChar(t.text[n]) + " in numeric literal", Offset: start + int64(n) + 1}
	}
	if c := t.text[len(t.text)-1]; c < '0' || c > '9' { // "-", "1.", "1e", "1e+"
		if t.pos == t.filled {
			return t.inputEnded(io.ErrUnexpectedEOF)
		}
		return t.syntaxError(t.buf[t.pos], "in numeric literal")
	}
	return nil
}

func isNumberByte(c byte) bool {
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// validNumberPrefix returns how many bytes of b, a run of number bytes,
// follow the JSON number grammar -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// (a prefix such as "1." that could still become a number counts).
func validNumberPrefix(b []byte) int {
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return i
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return i
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		digits()
	}
	return i
}
