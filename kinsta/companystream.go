package kinsta

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
)

// A page of GET /company/{id}/wp-plugins (or wp-themes) lists every
// environment each plugin is installed on: at 10,000 sites about 14 MB of
// JSON for two plugins. It is decoded as it streams in, one environment at
// a time (json.Decoder's tokens), so that neither the body nor the wire
// form of its elements is ever whole in memory. Member names match as
// json.Unmarshal matches them (case-insensitively; a repeated member: the
// last wins), and a wrong type is reported as json.Unmarshal reports it.

// streamCompanyExtensions reads one page of company.plugins (wrapper
// "plugins") or company.themes ("themes"). A body without the page, or with
// a wrong type on the way to it, also comes back read as an error body
// (errBody), for decodeError: some APIs send errors with 200.
func streamCompanyExtensions(r io.Reader, wrapper string) (p extensionPage, errBody *apiErrorBody, err error) {
	d := &extensionStream{dec: json.NewDecoder(r), wrapper: wrapper}
	var eb apiErrorBody
	errFields := []field{{"message", &eb.Message}, {"error", &eb.Error}, {"status", &eb.Status}, {"data", &eb.Data}}
	ok, err := d.object("", func(key string) error {
		if strings.EqualFold(key, "company") {
			return d.company()
		}
		return d.member(key, errFields)
	})
	switch {
	case errors.Is(err, io.EOF) && !d.started:
		return extensionPage{}, nil, &shapeError{path: "body", problem: "is empty"}
	case errors.Is(err, io.EOF):
		return extensionPage{}, nil, io.ErrUnexpectedEOF
	case err != nil:
		return extensionPage{}, nil, err
	}
	if _, err := d.dec.Token(); !errors.Is(err, io.EOF) {
		return extensionPage{}, nil, &jsonSyntaxError{msg: "invalid data after top-level value", Offset: d.dec.InputOffset()}
	}
	if ok {
		errBody = &eb
	}
	switch {
	case d.typeErr != nil:
		return extensionPage{}, errBody, d.typeErr
	case !ok || !d.companySeen:
		return extensionPage{}, errBody, missing("company")
	case !d.items:
		return extensionPage{}, errBody, missing("company." + wrapper + ".items")
	}
	return d.page, nil, nil
}

type extensionStream struct {
	dec         *json.Decoder
	wrapper     string
	page        extensionPage
	companySeen bool  // company was an object
	items       bool  // company.<wrapper>.items was an array
	typeErr     error // the first wrong type, as json.Unmarshal reports it
	started     bool  // a first token was read
	strs        map[string]string
}

// intern makes the install's texts but its environment id share storage
// with the page's equal ones. A page lists each plugin's environments, so
// a site's names come once per plugin and statuses and versions once per
// install: at 10,000 sites they took half of a page's memory (tens of
// thousands of installs) held whole until the page is counted. Bounded by
// the page, which the body cap bounds.
func (d *extensionStream) intern(in ExtensionInstall) ExtensionInstall {
	if d.strs == nil {
		d.strs = map[string]string{}
	}
	for _, s := range []*string{&in.SiteDisplayName, &in.DisplayName, &in.Status, &in.Version, &in.Update, &in.UpdateVersion} {
		if v, ok := d.strs[*s]; ok {
			*s = v
		} else {
			d.strs[*s] = *s
		}
	}
	return in
}

func (d *extensionStream) company() error {
	d.companySeen, d.items, d.page = false, false, extensionPage{}
	ok, err := d.object("company", func(key string) error {
		if strings.EqualFold(key, d.wrapper) {
			return d.extensionPage()
		}
		return d.skip()
	})
	d.companySeen = ok
	return err
}

func (d *extensionStream) extensionPage() error {
	d.items, d.page = false, extensionPage{}
	path := "company." + d.wrapper
	var total optFloat
	var updated flexTime
	fields := []field{{"total", &total}, {"last_updated_at", &updated}}
	_, err := d.object(path, func(key string) error {
		if strings.EqualFold(key, "items") {
			d.page.items = nil
			ok, err := d.array(path+".items", func() error { return d.extension(path + ".items") })
			d.items = ok
			return err
		}
		return d.member(key, fields)
	})
	d.page.total, d.page.lastUpdatedAt = -1, updated.time()
	if total.ok {
		d.page.total = total.int()
	}
	return err
}

// extension reads one item, its environments one at a time.
func (d *extensionStream) extension(path string) error {
	var w wireCompanyExtension
	fields := []field{{"name", &w.Name}, {"title", &w.Title}, {"latest_version", &w.LatestVersion},
		{"is_latest_version_vulnerable", &w.LatestVulnerable}, {"environment_count", &w.EnvironmentCount},
		{"update_count", &w.UpdateCount}}
	// A null item is a zero one, as json.Unmarshal leaves it.
	_, err := d.object(path, func(key string) error {
		if strings.EqualFold(key, "environments") {
			w.Environments = nil
			_, err := d.array(path+".environments", func() error {
				var e wireInstall
				if err := d.dec.Decode(&e); err != nil {
					return err
				}
				w.Environments = append(w.Environments, d.intern(e.install()))
				return nil
			})
			return err
		}
		return d.member(key, fields)
	})
	d.page.items = append(d.page.items, w.extension())
	return err
}

// field is a member name and where its value goes.
type field struct {
	name string
	dst  any
}

// member decodes the value that comes next into the field named key (names
// match as json.Unmarshal matches them), or skips it.
func (d *extensionStream) member(key string, fields []field) error {
	for _, f := range fields {
		if strings.EqualFold(key, f.name) {
			return d.dec.Decode(f.dst)
		}
	}
	return d.skip()
}

// object reads the object that comes next, calling member with each key
// (member must read the value); false for null. A value of another type is
// skipped and recorded as the stream's first wrong type.
func (d *extensionStream) object(path string, member func(key string) error) (bool, error) {
	return d.container(path, '{', func() error {
		tok, err := d.dec.Token()
		if err != nil {
			return err
		}
		return member(tok.(string)) // json.Decoder checks that a key is a string
	})
}

// array is object for an array, calling elem for each element.
func (d *extensionStream) array(path string, elem func() error) (bool, error) {
	return d.container(path, '[', elem)
}

func (d *extensionStream) container(path string, open json.Delim, each func() error) (bool, error) {
	tok, err := d.dec.Token()
	if err != nil {
		return false, err
	}
	d.started = true
	if tok == nil {
		return false, nil
	}
	if tok != open {
		if d.typeErr == nil {
			want := reflect.TypeFor[map[string]any]()
			if open == '[' {
				want = reflect.TypeFor[[]any]()
			}
			d.typeErr = &json.UnmarshalTypeError{Value: jsonKind(tok), Type: want, Offset: d.dec.InputOffset(), Field: path}
		}
		return false, d.skipRest(tok)
	}
	for d.dec.More() {
		if err := each(); err != nil {
			return false, err
		}
	}
	_, err = d.dec.Token() // the closing delimiter; the decoder checks it matches
	return true, err
}

// skip reads the value that comes next.
func (d *extensionStream) skip() error {
	tok, err := d.dec.Token()
	if err != nil {
		return err
	}
	return d.skipRest(tok)
}

// skipRest reads the rest of a value whose first token was tok. Its
// nesting is bounded as the /sites walker bounds it (maxDepth): json.Decoder
// keeps a stack entry per open bracket, and a body of brackets could
// otherwise take eight times its size.
func (d *extensionStream) skipRest(tok json.Token) error {
	if tok != json.Delim('{') && tok != json.Delim('[') {
		return nil
	}
	for depth := 1; depth > 0; {
		tok, err := d.dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if depth++; depth > maxDepth {
				return &depthError{Offset: d.dec.InputOffset()}
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	return nil
}

// jsonKind names a value's JSON type by its first token, as
// json.UnmarshalTypeError does.
func jsonKind(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		if tok == json.Delim('[') {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case bool:
		return "bool"
	}
	return "number"
}
