package kinsta

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jsonTokens walks a JSON body token by token with a json.Decoder, so that a
// body of many megabytes is never held whole. Its syntax errors are
// json.Decoder's: a *json.SyntaxError, or io.ErrUnexpectedEOF where the body
// ends inside a value. They are worded, and their offsets counted, unlike
// json.Unmarshal's; they only end up in an operator message.
type jsonTokens struct {
	dec   *json.Decoder
	depth int // objects and arrays open at the current token
}

// maxDepth is how deeply the tokens walked may nest, as in encoding/json,
// whose json.Unmarshal fails past it. json.Decoder's Token has no such limit
// and keeps a stack entry per open value: 16 MiB of '[' in a skipped member
// allocated over 700 MiB. (A value read with decode has its own limit of
// the same depth, counted from that value.)
const maxDepth = 10000

// depthError is a body nested deeper than maxDepth at byte Offset.
type depthError struct{ Offset int64 }

func (e *depthError) Error() string {
	return fmt.Sprintf("JSON nested too deep (over %d levels) at byte %d", maxDepth, e.Offset)
}

// errTrailingData is a body that holds more than one JSON value. json.Decoder
// reads a stream of values; the API sends one, so anything after it is an
// error, as it was for json.Unmarshal.
var errTrailingData = errors.New("data after the top-level JSON value")

func newJSONTokens(r io.Reader) *jsonTokens {
	dec := json.NewDecoder(r)
	// Number tokens as json.Number: as float64, a skipped 1e999 would fail.
	dec.UseNumber()
	return &jsonTokens{dec: dec}
}

// first returns the first token of the body, or io.EOF if it is blank.
func (t *jsonTokens) first() (json.Token, error) { return t.token() }

// next returns the next token inside the top-level value.
func (t *jsonTokens) next() (json.Token, error) {
	tok, err := t.token()
	return tok, unexpectedEOF(err)
}

// token is dec.Token counting the depth, which fails past maxDepth.
func (t *jsonTokens) token() (json.Token, error) {
	tok, err := t.dec.Token()
	if d, ok := tok.(json.Delim); ok {
		switch d {
		case '{', '[':
			if t.depth++; t.depth > maxDepth {
				return nil, &depthError{Offset: t.dec.InputOffset()}
			}
		case '}', ']':
			t.depth--
		}
	}
	return tok, err
}

// decode decodes the next value into v. A *json.UnmarshalTypeError means the
// value was read whole but did not fit v.
func (t *jsonTokens) decode(v any) error { return unexpectedEOF(t.dec.Decode(v)) }

// more reports whether the current object or array has another element.
func (t *jsonTokens) more() bool { return t.dec.More() }

// end checks that only white space follows the top-level value.
func (t *jsonTokens) end() error {
	_, err := t.dec.Token()
	switch err {
	case io.EOF:
		return nil
	case nil:
		return errTrailingData
	}
	return err
}

// members calls member with each key of the object whose '{' was just read;
// member must read the key's value.
func (t *jsonTokens) members(member func(key string) error) error {
	for {
		tok, err := t.next()
		if err != nil || tok == json.Delim('}') {
			return err
		}
		// The decoder only returns a string where a key belongs.
		if err := member(tok.(string)); err != nil {
			return err
		}
	}
}

// skip reads the next value token by token and keeps none of it: an unknown
// member may be huge. The depth count, not recursion, follows its nesting.
func (t *jsonTokens) skip() error {
	depth := t.depth
	if _, err := t.next(); err != nil {
		return err
	}
	return t.skipTo(depth)
}

// skipTo reads and drops tokens until the values open deeper than depth are
// closed: the rest of a value whose first token was already read.
func (t *jsonTokens) skipTo(depth int) error {
	for t.depth > depth {
		if _, err := t.next(); err != nil {
			return err
		}
	}
	return nil
}

// unexpectedEOF turns the io.EOF of a body that ends between two tokens of
// the top-level value into the io.ErrUnexpectedEOF json.Decoder gives for
// one that ends inside a token.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
