package kinsta

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strings"
)

// Validate returns what GET /validate says about the API key. It also tells
// the key's company id.
func (c *Client) Validate(ctx context.Context) (KeyInfo, error) {
	var info KeyInfo
	err := c.get(ctx, call{endpoint: "/validate", path: "/validate"}, func(body []byte) error {
		var err error
		info, err = decodeKeyInfo(body)
		return err
	})
	return info, err
}

type wireKeyInfo struct {
	Name      flexString `json:"name"`
	Status    flexString `json:"status"`
	Company   flexString `json:"company"`
	ExpiresAt flexTime   `json:"expires_at"` // epoch ms as a string (or number), null: never
}

func decodeKeyInfo(body []byte) (KeyInfo, error) {
	var w *wireKeyInfo
	if err := decodeJSON(body, &w); err != nil {
		return KeyInfo{}, err
	}
	if w == nil {
		return KeyInfo{}, missing("body")
	}
	// Every field is optional, but an object with neither a name nor a
	// company is not a key description (an error body sent with 200, whose
	// "status" is a number, or a proxy's JSON).
	if w.Name == "" && w.Company == "" {
		return KeyInfo{}, &shapeError{path: "body", problem: "has neither name nor company"}
	}
	return KeyInfo{
		Name:      string(w.Name),
		Status:    string(w.Status),
		CompanyID: string(w.Company),
		ExpiresAt: w.ExpiresAt.time(),
	}, nil
}

// Sites returns every WordPress site of the company with its environments, in
// one request: GET /sites?company=ID&include_environments=true. The body is
// decoded as it arrives (see streamSites).
func (c *Client) Sites(ctx context.Context, companyID string) ([]Site, error) {
	if companyID == "" {
		return nil, errors.New("kinsta: Sites: empty company id")
	}
	var sites []Site
	cl := call{endpoint: "/sites", path: "/sites",
		query: url.Values{"company": {companyID}, "include_environments": {"true"}}}
	err := c.getStream(ctx, cl, func(body io.Reader) (errBody *apiErrorBody, err error) {
		sites, errBody, err = streamSites(body)
		return errBody, err
	})
	if err != nil {
		return nil, err
	}
	return sites, nil
}

// DecodeSites decodes a GET /sites body as Client.Sites does, reading at most
// 64 MiB. Errors are *Error of KindBadResponse or KindTooLarge.
func DecodeSites(r io.Reader) ([]Site, error) {
	size := int64(-1)
	if l, ok := r.(interface{ Len() int }); ok {
		size = int64(l.Len())
	}
	var sites []Site
	bodyErr, err := streamCapped(r, defaultMaxResponseBytes, size, func(body io.Reader) (err error) {
		sites, _, err = streamSites(body)
		return err
	})
	switch {
	case errors.Is(bodyErr, errTooLarge):
		return nil, &Error{Kind: KindTooLarge, Message: "response body over 64 MiB"}
	case bodyErr != nil:
		return nil, &Error{Kind: KindBadResponse, Message: "reading body", Err: bodyErr}
	case err != nil:
		msg, cause := describeDecodeError(err)
		return nil, &Error{Kind: KindBadResponse, Message: msg, Err: cause}
	}
	return sites, nil
}

type wireSite struct {
	ID           flexString        `json:"id"`
	Name         flexString        `json:"name"`
	DisplayName  flexString        `json:"display_name"`
	Status       flexString        `json:"status"`
	SiteLabels   labelList         `json:"siteLabels"`  // the spec's name
	SiteLabels2  labelList         `json:"site_labels"` // seen in a production client, with numeric ids
	Environments []wireEnvironment `json:"environments"`
}

type wireLabel struct {
	ID   flexString `json:"id"` // string, or number
	Name flexString `json:"name"`
}

// labelList is a label array; anything else (an object, a string) is taken
// as no labels, since labels only decorate a site and must not cost the
// whole inventory.
type labelList []wireLabel

func (l *labelList) UnmarshalJSON(b []byte) error {
	*l = nil
	if len(b) == 0 || b[0] != '[' {
		return nil
	}
	return json.Unmarshal(b, (*[]wireLabel)(l))
}

type wireEnvironment struct {
	ID               flexString `json:"id"`
	Name             flexString `json:"name"`
	DisplayName      flexString `json:"display_name"`
	IsBlocked        flexBool   `json:"is_blocked"`
	IsPremium        flexBool   `json:"is_premium"`
	WordPressVersion flexString `json:"wordpress_version"`
	wireEnvDomains              // domains, primaryDomain (domains.go)
	ContainerInfo    *struct {
		PHPEngineVersion flexString `json:"php_engine_version"`
	} `json:"container_info"`
	// ssh_connection (whose ssh_port is a string or a number) and the rest
	// are not decoded at all, so their types cannot break anything.
}

// streamSites decodes a GET /sites body as it is read: each site of
// company.sites is decoded into a wireSite and converted at once, so neither
// the whole body nor all the wire structs are ever held. Keys are matched
// case-insensitively, as json.Unmarshal matches struct fields. A well-formed
// body without company.sites, or with a wrong type on the way to a site,
// also comes back read as an error body (errBody), for decodeError: some
// APIs send errors with 200.
func streamSites(r io.Reader) (sites []Site, errBody *apiErrorBody, err error) {
	w := &sitesWalk{in: newJSONTokens(r)}
	if err := w.walk(); err != nil {
		return nil, nil, err
	}
	if err := w.shapeError(); err != nil {
		return nil, &w.errBody, err
	}
	return w.sites.join(), nil, nil
}

// sitesWalk keeps, of a GET /sites body, company.sites and the members of
// an error body; it skips everything else. It stops at the first syntax
// error, but goes on past a wrong type in company, as json.Unmarshal did:
// the error body's members may come after it.
type sitesWalk struct {
	in         *jsonTokens
	sites      siteList
	hasCompany bool  // company is an object
	hasSites   bool  // company.sites is an array
	badType    error // the first wrong type in company; company is then skipped
	errBody    apiErrorBody
	wire       wireSite // the site being decoded, reused
}

func (w *sitesWalk) walk() error {
	tok, err := w.in.first()
	switch {
	case err == io.EOF:
		return &shapeError{path: "body", problem: "is empty"}
	case err != nil:
		return err
	case tok == json.Delim('{'):
		if err := w.in.members(w.topMember); err != nil {
			return err
		}
	case tok != nil: // null is a body without company
		return wrongType("top level", tok)
	}
	return w.in.end()
}

func (w *sitesWalk) topMember(key string) error {
	switch {
	case strings.EqualFold(key, "company"):
		if w.badType != nil {
			return w.in.skip() // the sites are lost already
		}
		depth := w.in.depth
		err := w.company()
		if isWrongType(err) {
			w.badType, w.sites = err, siteList{}
			return w.in.skipTo(depth) // the rest of company
		}
		return err
	case strings.EqualFold(key, "message"):
		return w.in.decode(&w.errBody.Message)
	case strings.EqualFold(key, "error"):
		return w.in.decode(&w.errBody.Error)
	case strings.EqualFold(key, "status"):
		return w.in.decode(&w.errBody.Status)
	case strings.EqualFold(key, "data"):
		return w.in.decode(&w.errBody.Data)
	}
	return w.in.skip()
}

func (w *sitesWalk) company() error {
	tok, err := w.in.next()
	switch {
	case err != nil:
		return err
	case tok == nil: // null drops what an earlier company key gave
		w.hasCompany, w.hasSites, w.sites = false, false, siteList{}
		return nil
	case tok != json.Delim('{'):
		return wrongType("company", tok)
	}
	// A repeated company key adds to the same company, as in json.Unmarshal.
	w.hasCompany = true
	return w.in.members(w.companyMember)
}

func (w *sitesWalk) companyMember(key string) error {
	if !strings.EqualFold(key, "sites") {
		return w.in.skip()
	}
	tok, err := w.in.next()
	switch {
	case err != nil:
		return err
	case tok == nil:
		w.hasSites, w.sites = false, siteList{}
		return nil
	case tok != json.Delim('['):
		return wrongType("company.sites", tok)
	}
	w.hasSites, w.sites = true, siteList{} // a repeated sites key: the last wins
	for w.in.more() {
		if err := w.decodeSite(); err != nil {
			return err
		}
	}
	_, err = w.in.next() // ']'
	return err
}

// decodeSite decodes one element of company.sites and converts it at once.
func (w *sitesWalk) decodeSite() error {
	w.wire = wireSite{}
	err := w.in.decode(&w.wire)
	// json.Decoder returns it unwrapped; errors.As would cost an allocation
	// per site.
	if typ, ok := err.(*json.UnmarshalTypeError); ok {
		// Its path starts at the site; describeDecodeError's at the top.
		typ.Field = strings.TrimSuffix("company.sites."+typ.Field, ".")
		return typ
	}
	if err != nil {
		return err
	}
	w.sites.add(w.wire.site())
	return nil
}

// shapeError is the walk's verdict on a body read to its end without a
// syntax error.
func (w *sitesWalk) shapeError() error {
	switch {
	case w.badType != nil:
		return w.badType
	case !w.hasCompany:
		return missing("company")
	case !w.hasSites:
		return missing("company.sites")
	}
	return nil
}

// wrongType reports a value of tok's JSON type where an object or array
// belongs, in the words describeDecodeError gives a json.UnmarshalTypeError.
func wrongType(path string, tok json.Token) error {
	return &shapeError{path: path, problem: "is a JSON " + jsonType(tok)}
}

// isWrongType reports whether err, of the walk of company, is a value of the
// wrong type (the walk's own, or a site's), after which the body is still
// well-formed so far.
func isWrongType(err error) bool {
	switch err.(type) {
	case *shapeError, *json.UnmarshalTypeError:
		return true
	}
	return false
}

// jsonType names the JSON type of a token that begins a value other than null.
func jsonType(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		if tok == json.Delim('{') {
			return "object"
		}
		return "array"
	case string:
		return "string"
	case json.Number:
		return "number"
	}
	return "bool"
}

// siteList collects sites in blocks and joins them once at the end. An
// appended slice copies itself at each growth: for a runaway body of tiny
// sites, cut off at the size cap, that allocated several times the size of
// the list in all.
type siteList struct {
	blocks [][]Site
	n      int
}

// Blocks double from 8 sites up to 1024 (112 KiB).
const minSiteBlock, maxSiteBlock = 8, 1024

func (l *siteList) add(s Site) {
	if len(l.blocks) == 0 || len(l.blocks[len(l.blocks)-1]) == cap(l.blocks[len(l.blocks)-1]) {
		l.blocks = append(l.blocks, make([]Site, 0, min(max(l.n, minSiteBlock), maxSiteBlock)))
	}
	last := &l.blocks[len(l.blocks)-1]
	*last = append(*last, s)
	l.n++
}

// join returns the sites as one slice, never nil.
func (l *siteList) join() []Site {
	sites := make([]Site, 0, l.n)
	for _, b := range l.blocks {
		sites = append(sites, b...)
	}
	return sites
}

func (w *wireSite) site() Site {
	s := Site{
		ID:          string(w.ID),
		Name:        string(w.Name),
		DisplayName: string(w.DisplayName),
		Status:      string(w.Status),
		Labels:      mergeLabels(w.SiteLabels, w.SiteLabels2),
	}
	if len(w.Environments) > 0 {
		s.Environments = make([]Environment, len(w.Environments))
		for i := range w.Environments {
			s.Environments[i] = w.Environments[i].environment()
		}
	}
	return s
}

// mergeLabels joins both label spellings, dropping empty and repeated ones.
func mergeLabels(lists ...labelList) []Label {
	var out []Label
	for _, list := range lists {
		for _, wl := range list {
			l := Label{ID: string(wl.ID), Name: string(wl.Name)}
			if (l == Label{}) || containsLabel(out, l) {
				continue
			}
			out = append(out, l)
		}
	}
	return out
}

func containsLabel(labels []Label, l Label) bool {
	for _, x := range labels {
		if x == l {
			return true
		}
	}
	return false
}

func (w *wireEnvironment) environment() Environment {
	e := Environment{
		ID:               string(w.ID),
		Name:             string(w.Name),
		DisplayName:      string(w.DisplayName),
		IsBlocked:        bool(w.IsBlocked),
		IsPremium:        bool(w.IsPremium),
		WordPressVersion: string(w.WordPressVersion),
	}
	e.PrimaryDomain, e.Domains = w.wireEnvDomains.domains()
	if w.ContainerInfo != nil {
		e.PHPVersion = phpVersion(string(w.ContainerInfo.PHPEngineVersion))
	}
	return e
}

// phpVersion turns "php8.3" into "8.3"; other spellings pass through trimmed.
func phpVersion(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 3 && strings.EqualFold(s[:3], "php") {
		s = strings.TrimSpace(s[3:])
	}
	return s
}
