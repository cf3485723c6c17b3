package kinsta

import (
	"errors"
	"strings"
	"unicode"
)

// minKeyPart is the length of the shortest part of the API key, in letters
// and digits, whose presence makes an error text withheld.
const minKeyPart = 8

// withheldMessage replaces an error text that holds part of the API key.
const withheldMessage = "API message withheld: it contained part of the API key"

// errWithheld replaces an underlying error whose text holds part of the key.
var errWithheld = errors.New("error text withheld: it contained part of the API key")

// keyFilter finds parts of the API key in text a server (or a custom
// Transport) sent back. Replacing an exact echo before cleaning missed the
// key with a NUL inside (cleaned into a space), in another letter case,
// split, or cut: the text is now checked after cleaning, with case and every
// character other than letters and digits ignored, for any minKeyPart
// characters of the key, and withheld whole when it has one.
type keyFilter struct {
	parts []string // every run of minKeyPart folded characters of the key
	plain string   // a key of punctuation only, lower-cased: it is looked for as it is
}

func newKeyFilter(key string) keyFilter {
	folded := foldKeyText(key)
	if folded == "" {
		return keyFilter{plain: strings.ToLower(key)}
	}
	n := min(minKeyPart, len(folded))
	f := keyFilter{parts: make([]string, 0, len(folded)-n+1)}
	for i := 0; i+n <= len(folded); i++ {
		f.parts = append(f.parts, folded[i:i+n])
	}
	return f
}

// holdsKey reports whether s holds a part of the key.
func (f keyFilter) holdsKey(s string) bool {
	if f.plain != "" {
		return strings.Contains(strings.ToLower(s), f.plain)
	}
	folded := foldKeyText(s)
	for _, p := range f.parts {
		if strings.Contains(folded, p) {
			return true
		}
	}
	return false
}

// foldKeyText keeps the letters and digits of s, lower-cased.
func foldKeyText(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// newError sanitises what came from outside before it can reach a log: API
// text is cleaned and cut, and then withheld whole if it holds any part of
// the API key, as is the text of an underlying error.
func (c *Client) newError(e *Error) *Error {
	e.Message = cleanMessage(e.Message)
	if c.keyFilter.holdsKey(e.Message) {
		e.Message = withheldMessage
	}
	if e.Err != nil && c.keyFilter.holdsKey(e.Err.Error()) {
		e.Err = errWithheld
	}
	return e
}
