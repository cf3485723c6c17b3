package kinsta

import (
	"math"
	"strconv"
	"strings"
)

// The streaming decoder reads leaves as tokens (jsonTokens.leaf); these
// convert a leaf, its kind and text, as the flexible types of flex.go
// convert its JSON, so that a streamed body and an unmarshalled one read
// alike.

// leafString is flexString of a leaf: a string, a number or a bool as its
// JSON text; null is "".
func leafString(k tokKind, text []byte) string {
	switch k {
	case tokString, tokNumber:
		return string(text)
	case tokTrue:
		return "true"
	case tokFalse:
		return "false"
	}
	return ""
}

// leafBool is flexBool of a leaf.
func leafBool(k tokKind, text []byte) bool {
	switch k {
	case tokTrue:
		return true
	case tokString:
		b, _ := strconv.ParseBool(strings.TrimSpace(string(text)))
		return b
	case tokNumber:
		f, _ := strconv.ParseFloat(string(text), 64)
		return f != 0
	}
	return false
}

// leafFloat is optFloat of a leaf.
func leafFloat(k tokKind, text []byte) optFloat {
	if k != tokString && k != tokNumber {
		return optFloat{}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(string(text)), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return optFloat{}
	}
	return optFloat{v: f, ok: true}
}
