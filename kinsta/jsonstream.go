package kinsta

import (
	"errors"
	"fmt"
	"io"
)

// jsonTokens walks a JSON body token by token, so that a body of many
// megabytes is never held whole: it holds a read buffer of 32 KiB and the
// text of one token, of at most maxTokenBytes. It replaced json.Decoder,
// whose buffer holds all white space between two tokens (scanning it again
// at each read: `{` and 60 MB of blanks held 117 MB of heap and took a
// minute) and a whole token or decoded value, and whose Token allocates for
// every token, skipped ones included.
//
// It checks the JSON syntax as encoding/json does and decodes strings as
// json.Unmarshal does (invalid UTF-8 and lone surrogates become U+FFFD).
// Its errors are a *jsonSyntaxError, io.ErrUnexpectedEOF where the body
// ends inside the top-level value, a *depthError, a *tokenTooLongError,
// errTrailingData, or the reader's own error.
type jsonTokens struct {
	r      io.Reader
	buf    []byte
	pos    int   // next byte of buf
	filled int   // bytes of buf filled
	base   int64 // offset in the body of buf[0]
	rerr   error // the reader's error, met once buf is drained
	state  scanState
	open   []bool // the containers open, true for an object
	depth  int    // len(open)
	text   []byte // the last string (decoded) or number token; reused
	alt    []byte // a second buffer for text, reused
}

// tokKind is the kind of a JSON token.
type tokKind uint8

const (
	tokNone tokKind = iota // no token: an error
	tokObject
	tokObjectEnd
	tokArray
	tokArrayEnd
	tokString // a value or an object key; its text is jsonTokens.text
	tokNumber // its text is jsonTokens.text
	tokTrue
	tokFalse
	tokNull
)

// jsonType names the JSON type of a value beginning with k.
func (k tokKind) jsonType() string {
	switch k {
	case tokObject:
		return "object"
	case tokArray:
		return "array"
	case tokString:
		return "string"
	case tokNumber:
		return "number"
	case tokNull:
		return "null"
	}
	return "bool"
}

// scanState is what the next token may be.
type scanState uint8

const (
	stateValue       scanState = iota // a value: the top level, after ':', after ',' in an array
	stateArrayFirst                   // a value or ']'
	stateObjectFirst                  // a key or '}'
	stateKey                          // a key, after ',' in an object
	stateColon                        // ':' and a value
	stateAfter                        // ',' or the end of the container
	stateEnd                          // nothing but white space
)

// maxDepth is how deeply the tokens walked may nest, as in encoding/json,
// whose json.Unmarshal fails past it.
const maxDepth = 10000

// readBufferSize is the size of jsonTokens' read buffer.
const readBufferSize = 32 << 10

// depthError is a body nested deeper than maxDepth at byte Offset.
type depthError struct{ Offset int64 }

func (e *depthError) Error() string {
	return fmt.Sprintf("JSON nested too deep (over %d levels) at byte %d", maxDepth, e.Offset)
}

// errTrailingData is a body that holds more than one JSON value: the API
// sends one, so anything after it is an error, as it was for json.Unmarshal.
var errTrailingData = errors.New("data after the top-level JSON value")

func newJSONTokens(r io.Reader) *jsonTokens {
	return &jsonTokens{r: r, buf: make([]byte, readBufferSize)}
}

// first returns the first token of the body, or io.EOF if it is blank.
func (t *jsonTokens) first() (tokKind, error) { return t.token() }

// next returns the next token inside the top-level value.
func (t *jsonTokens) next() (tokKind, error) {
	k, err := t.token()
	return k, unexpectedEOF(err)
}

// end checks that only white space follows the top-level value.
func (t *jsonTokens) end() error {
	_, err := t.token()
	if err == io.EOF {
		return nil
	}
	return err
}

// more reports whether the current object or array has another element.
func (t *jsonTokens) more() bool {
	c, ok := t.peekNonSpace()
	return ok && c != ']' && c != '}'
}

// token reads the next token, checking that it may come here; ',' and ':'
// are read on the way.
func (t *jsonTokens) token() (tokKind, error) {
	for {
		c, ok := t.peekNonSpace()
		if !ok {
			return tokNone, t.inputEnded(io.EOF)
		}
		switch t.state {
		case stateEnd:
			if startsValue(c) {
				return tokNone, errTrailingData
			}
			return tokNone, t.syntaxError(c, "after top-level value")
		case stateColon:
			if c != ':' {
				return tokNone, t.syntaxError(c, "after object key")
			}
			t.pos++
			t.state = stateValue
			continue
		case stateAfter:
			if k, err, done := t.afterElement(c); done {
				return k, err
			}
			continue
		case stateObjectFirst:
			if c == '}' {
				t.pos++
				return t.close(tokObjectEnd), nil
			}
			fallthrough
		case stateKey:
			if c != '"' {
				return tokNone, t.syntaxError(c, "looking for beginning of object key string")
			}
			t.pos++
			t.state = stateColon
			return tokString, t.readString()
		case stateArrayFirst:
			if c == ']' {
				t.pos++
				return t.close(tokArrayEnd), nil
			}
		}
		return t.value(c)
	}
}

// afterElement reads c, which follows an element of the open container: a
// ',' (done false: a token follows), or the container's end.
func (t *jsonTokens) afterElement(c byte) (k tokKind, err error, done bool) {
	inObject := t.open[t.depth-1]
	switch {
	case c == ',':
		t.pos++
		t.state = stateValue
		if inObject {
			t.state = stateKey
		}
		return tokNone, nil, false
	case c == '}' && inObject:
		t.pos++
		return t.close(tokObjectEnd), nil, true
	case c == ']' && !inObject:
		t.pos++
		return t.close(tokArrayEnd), nil, true
	case inObject:
		return tokNone, t.syntaxError(c, "after object key:value pair"), true
	}
	return tokNone, t.syntaxError(c, "after array element"), true
}

// value reads the value that begins with c.
func (t *jsonTokens) value(c byte) (tokKind, error) {
	switch {
	case c == '{' || c == '[':
		t.pos++
		if t.depth >= maxDepth {
			return tokNone, &depthError{Offset: t.offset()}
		}
		t.open = append(t.open, c == '{')
		t.depth++
		if c == '{' {
			t.state = stateObjectFirst
			return tokObject, nil
		}
		t.state = stateArrayFirst
		return tokArray, nil
	case c == '"':
		t.pos++
		t.afterValue()
		return tokString, t.readString()
	case c == '-' || (c >= '0' && c <= '9'):
		t.afterValue()
		return tokNumber, t.readNumber()
	case c == 't':
		return t.literal("true", tokTrue)
	case c == 'f':
		return t.literal("false", tokFalse)
	case c == 'n':
		return t.literal("null", tokNull)
	}
	return tokNone, t.syntaxError(c, "looking for beginning of value")
}

func (t *jsonTokens) close(k tokKind) tokKind {
	t.depth--
	t.open = t.open[:t.depth]
	t.afterValue()
	return k
}

func (t *jsonTokens) afterValue() {
	t.state = stateAfter
	if t.depth == 0 {
		t.state = stateEnd
	}
}

func (t *jsonTokens) literal(lit string, k tokKind) (tokKind, error) {
	complete := t.ensure(len(lit))
	for i := 0; i < len(lit) && t.pos+i < t.filled; i++ {
		if c := t.buf[t.pos+i]; c != lit[i] {
			t.pos += i
			return tokNone, t.syntaxError(c, "in literal "+lit)
		}
	}
	if !complete {
		return tokNone, t.inputEnded(io.ErrUnexpectedEOF)
	}
	t.pos += len(lit)
	t.afterValue()
	return k, nil
}

func startsValue(c byte) bool {
	switch c {
	case '{', '[', '"', '-', 't', 'f', 'n':
		return true
	}
	return c >= '0' && c <= '9'
}

// unexpectedEOF turns the io.EOF of a body that ends between two tokens of
// the top-level value into io.ErrUnexpectedEOF, as for one that ends inside
// a token.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
