package kinsta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// shapeError is a well-formed JSON body that lacks the wrapper leading to
// the data. It is checked strictly, unlike the fields inside the data: a
// missing company.sites means a changed API or a wrong endpoint, and
// reporting it as "0 sites" would silently drop every series.
type shapeError struct {
	path    string
	problem string
}

func (e *shapeError) Error() string {
	return "unexpected response shape: " + e.path + " " + e.problem
}

// missing reports a required wrapper that is absent or null. Null counts as
// missing: the reference never shows a null list, and an empty one is [].
func missing(path string) error {
	return &shapeError{path: path, problem: "is missing or null"}
}

// decodeJSON unmarshals body into v, which must be a pointer to a pointer so
// that a top-level null is seen as nil.
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return &shapeError{path: "body", problem: "is empty"}
	}
	return json.Unmarshal(body, v)
}

// describeDecodeError turns a decoding failure into an operator message, and
// the cause worth keeping for errors.As (none for shape problems, whose
// encoding/json text only names Go types).
func describeDecodeError(err error) (string, error) {
	var shape *shapeError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var deep *depthError
	var long *tokenTooLongError
	var budget *budgetError
	var id *CompanyIDError
	var streamSyntax *jsonSyntaxError
	switch {
	case errors.As(err, &shape):
		return shape.Error(), nil
	case errors.As(err, &deep), errors.As(err, &long), errors.As(err, &budget):
		return err.Error(), err
	case errors.As(err, &id):
		return "company: " + id.Error(), err
	case errors.As(err, &streamSyntax):
		return fmt.Sprintf("malformed or truncated JSON at byte %d: %s", streamSyntax.Offset, streamSyntax.Error()), err
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed or truncated JSON at byte %d: %s", syntax.Offset, syntax.Error()), err
	case errors.Is(err, io.ErrUnexpectedEOF): // json.Decoder's word for a cut-off body
		return "malformed or truncated JSON: " + err.Error(), err
	case errors.As(err, &typ):
		path := typ.Field
		if path == "" {
			path = "top level"
		}
		return fmt.Sprintf("unexpected response shape: %s is a JSON %s", path, typ.Value), nil
	}
	return "undecodable response: " + err.Error(), err
}
