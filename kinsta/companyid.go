package kinsta

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxCompanyIDLength bounds a company id, in bytes. Kinsta's are UUIDs of
// 36 characters.
const MaxCompanyIDLength = 128

// CompanyIDError is a company id that CheckCompanyID refuses.
type CompanyIDError struct {
	ID     string // as given; Error quotes it escaped and cut short
	Reason string
}

func (e *CompanyIDError) Error() string {
	return "invalid company id " + quoteShort(e.ID) + ": " + e.Reason
}

// CheckCompanyID is the one check of a company id, wherever it comes from
// (a flag, the configuration file, GET /validate): valid UTF-8, not empty,
// at most MaxCompanyIDLength bytes, no whitespace, control, format or U+FFFD
// characters, none of / ? # % \, and not "." or "..". The id goes into
// request paths and queries and into label values: ".." made a request for
// /company/../wp-plugins, carrying the API key, and invalid UTF-8 made the
// metrics library panic. The error is a *CompanyIDError.
func CheckCompanyID(id string) error {
	reason := ""
	switch {
	case id == "":
		reason = "empty"
	case len(id) > MaxCompanyIDLength:
		reason = "longer than " + strconv.Itoa(MaxCompanyIDLength) + " bytes"
	case !utf8.ValidString(id):
		reason = "not valid UTF-8"
	case id == "." || id == "..":
		reason = `"." and ".." are path segments, not ids`
	case strings.ContainsAny(id, `/?#%\`):
		reason = `must not contain / ? # % or \`
	case strings.ContainsFunc(id, badIDRune):
		reason = "must not contain whitespace or control characters"
	default:
		return nil
	}
	return &CompanyIDError{ID: id, Reason: reason}
}

func badIDRune(r rune) bool {
	return unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}

// quoteShort quotes s in Go syntax (escaping invalid UTF-8 and control
// characters), cut to its first 40 bytes.
func quoteShort(s string) string {
	const max = 40
	if len(s) <= max {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:max]) + "…"
}

// checkCompany refuses an invalid company id before a request is sent to
// endpoint, with an *Error of KindClient wrapping the *CompanyIDError.
func (c *Client) checkCompany(endpoint, id string) error {
	err := CheckCompanyID(id)
	if err == nil {
		return nil
	}
	return c.newError(&Error{Kind: KindClient, Endpoint: endpoint, Message: "request not sent", Err: err})
}
