package kinsta

import (
	"strings"
	"unicode/utf8"
)

// The walking helpers of jsonTokens: a decoder built on them reads the
// members it wants and skips the rest without keeping any of it.

// members calls member with each key of the object whose '{' was just read;
// member must read the key's value. The key is valid until then.
func (t *jsonTokens) members(member func(key []byte) error) error {
	for {
		k, err := t.next()
		if err != nil || k == tokObjectEnd {
			return err
		}
		// token only returns a string where a key belongs.
		if err := member(t.text); err != nil {
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

// leaf reads the next value as a leaf: a string or number (its text in
// t.text), true, false or null. An object or array is skipped and read as
// null, as the flexible leaf types of flex.go read it.
func (t *jsonTokens) leaf() (tokKind, error) {
	depth := t.depth
	k, err := t.next()
	if err == nil && (k == tokObject || k == tokArray) {
		return tokNull, t.skipTo(depth)
	}
	return k, err
}

// object reads the next value; for an object it calls member with each key
// (member must read the key's value) and returns true. Any other value is
// skipped whole; first is its first token, for a message.
func (t *jsonTokens) object(member func(key []byte) error) (ok bool, first tokKind, err error) {
	return t.container(tokObject, func() error { return t.members(member) })
}

// array reads the next value; for an array it calls elem once per element
// (elem must read the element) and returns true. Any other value is skipped
// whole, as for object.
func (t *jsonTokens) array(elem func() error) (ok bool, first tokKind, err error) {
	return t.container(tokArray, func() error {
		for t.more() {
			if err := elem(); err != nil {
				return err
			}
		}
		_, err := t.next() // ']', or the error more saw
		return err
	})
}

func (t *jsonTokens) container(open tokKind, body func() error) (bool, tokKind, error) {
	depth := t.depth
	k, err := t.next()
	switch {
	case err != nil:
		return false, k, err
	case k == open:
		return true, k, body()
	}
	return false, k, t.skipTo(depth)
}

// keyIs reports whether key is name, matched case-insensitively as
// json.Unmarshal matches struct fields (name is ASCII).
func keyIs(key []byte, name string) bool {
	if len(key) != len(name) {
		// A non-ASCII key may fold to an ASCII name ("ſ" is "s").
		return len(key) > len(name) && !isASCII(key) && strings.EqualFold(string(key), name)
	}
	for i := range len(key) {
		a, b := key[i], name[i]
		if a == b {
			continue
		}
		if a|0x20 != b|0x20 || a|0x20 < 'a' || a|0x20 > 'z' {
			return !isASCII(key) && strings.EqualFold(string(key), name)
		}
	}
	return true
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
