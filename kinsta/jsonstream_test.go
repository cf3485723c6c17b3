package kinsta

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// scanAll walks a whole body with jsonTokens and returns the text of its
// string and number tokens (strings quoted, as json.Decoder gives them),
// or the error.
func scanAll(r io.Reader) ([]string, error) {
	t := newJSONTokens(r)
	var texts []string
	record := func(k tokKind) {
		switch k {
		case tokString:
			texts = append(texts, "s:"+string(t.text))
		case tokNumber:
			texts = append(texts, "n:"+string(t.text))
		}
	}
	k, err := t.first()
	if err != nil {
		return nil, err
	}
	record(k)
	for t.depth > 0 {
		k, err := t.next()
		if err != nil {
			return nil, err
		}
		record(k)
	}
	return texts, t.end()
}

// decoderTexts is scanAll done by encoding/json.
func decoderTexts(data []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var texts []string
	for {
		tok, err := dec.Token()
		if err != nil {
			return texts
		}
		switch v := tok.(type) {
		case string:
			texts = append(texts, "s:"+v)
		case json.Number:
			texts = append(texts, "n:"+string(v))
		}
	}
}

var jsonSeeds = []string{
	`{"a":[1,-2.5e+3,0,"x",true,false,null,{}],"b":{"c":[]}}`,
	` "\u00e9\ud83d\ude00\ud800x\udc00\\\"\/\b\f\n\r\t" `,
	"\"\xff\xfe raw invalid \xe2\x82 and \xed\xa0\x80 surrogate\"",
	`"\ud800\u0041"`, `"\ud83d\ude0"`, `"\uZZZZ"`, `"\q"`, "\"a\x01\"",
	`01`, `-`, `1.`, `1.e3`, `1e`, `-0.0e-0`, `1-2`, `--1`, `[1 2]`, `[1,]`, `{"a" 1}`, `{"a":1,}`,
	`{,}`, `{"a":1 "b":2}`, `tru`, `truex`, `nul`, `[`, `{"a":`, `"abc`, `{} {}`, `{} x`, ``, `  `,
	`[[[[]]]]`, `{"k":{"k":{"k":"v"}}}`, `{"\u0069d":"x","ID":1}`, "\t[\n1\r, 2 ]\n",
}

func FuzzJSONTokens(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkJSONTokens(t, data)
	})
}

// checkJSONTokens checks that jsonTokens accepts data exactly when
// encoding/json does, and reads the same strings and numbers, however the
// reader splits the body.
func checkJSONTokens(t *testing.T, data []byte) {
	t.Helper()
	texts, err := scanAll(bytes.NewReader(data))
	small, smallErr := scanAll(iotest.OneByteReader(bytes.NewReader(data)))
	if (err == nil) != (smallErr == nil) || !reflect.DeepEqual(texts, small) {
		t.Fatalf("%q: whole reads %q %v, one-byte reads %q %v", data, texts, err, small, smallErr)
	}
	if valid := json.Valid(data); (err == nil) != valid {
		t.Fatalf("%q: err %v, json.Valid %v", data, err, valid)
	}
	if err == nil {
		if want := decoderTexts(data); !reflect.DeepEqual(texts, want) && !(len(texts) == 0 && len(want) == 0) {
			t.Fatalf("%q: texts %q, encoding/json %q", data, texts, want)
		}
	}
}

func TestJSONTokensAgreeWithEncodingJSON(t *testing.T) {
	for _, s := range jsonSeeds {
		checkJSONTokens(t, []byte(s))
	}
}

func TestJSONTokensErrors(t *testing.T) {
	for body, want := range map[string]string{
		`[1,]`:       "invalid character ']' looking for beginning of value",
		`{"a" 1}`:    "invalid character '1' after object key",
		`[1 2]`:      "invalid character '2' after array element",
		`{"a":1 "b"`: "invalid character '\"' after object key:value pair",
		`{1:2}`:      "invalid character '1' looking for beginning of object key string",
		`"\q"`:       "invalid character 'q' in string escape code",
		`01`:         "invalid character '1' in numeric literal",
		`nulx`:       "invalid character 'x' in literal null",
		`[tr]`:       "invalid character ']' in literal true",
		`[tr`:        io.ErrUnexpectedEOF.Error(),
		`{} x`:       "invalid character 'x' after top-level value",
		`{} {}`:      errTrailingData.Error(),
		`{"a":`:      io.ErrUnexpectedEOF.Error(),
		`"abc`:       io.ErrUnexpectedEOF.Error(),
		`1e`:         io.ErrUnexpectedEOF.Error(),
	} {
		_, err := scanAll(strings.NewReader(body))
		if err == nil || err.Error() != want {
			t.Errorf("%s: err %v, want %s", body, err, want)
		}
	}
}

func TestJSONTokensLongTokens(t *testing.T) {
	for name, body := range map[string]string{
		"string": `["` + strings.Repeat("a", maxTokenBytes+1) + `"]`,
		"number": `[1` + strings.Repeat("0", maxTokenBytes) + `]`,
	} {
		_, err := scanAll(strings.NewReader(body))
		var long *tokenTooLongError
		if !errors.As(err, &long) || long.Offset != 1 {
			t.Errorf("%s: err %v, want a token too long at byte 1", name, err)
		}
	}
	ok := `["` + strings.Repeat("a", maxTokenBytes-2) + `"]`
	if _, err := scanAll(strings.NewReader(ok)); err != nil {
		t.Errorf("a string of %d bytes: %v", maxTokenBytes, err)
	}
}

func TestKeyIs(t *testing.T) {
	for _, tc := range []struct {
		key, name string
		want      bool
	}{
		{"id", "id", true}, {"ID", "id", true}, {"Display_Name", "display_name", true},
		{"siteLabels", "sitelabels", true}, {"idx", "id", false}, {"i", "id", false},
		{"i_", "i\x7f", false}, {"\u017ftatus", "status", true}, {"\u212a", "k", true}, {"[d", "{d", false},
	} {
		if got := keyIs([]byte(tc.key), tc.name); got != tc.want {
			t.Errorf("keyIs(%q, %q) = %v", tc.key, tc.name, got)
		}
	}
}
