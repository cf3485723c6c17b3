package kinsta

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/url"
)

// Validate returns what GET /validate says about the API key. It also tells
// the key's company id; one that CheckCompanyID refuses fails the call as a
// KindBadResponse wrapping the *CompanyIDError.
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
	// The company id goes into request paths: ".." would turn
	// /company/{id}/wp-plugins into /wp-plugins.
	if w.Company != "" {
		if err := CheckCompanyID(string(w.Company)); err != nil {
			return KeyInfo{}, err
		}
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
// decoded as it arrives (see streamSites). Malformed sites, environments and
// labels are left out; SitesWithDropped also tells how many.
func (c *Client) Sites(ctx context.Context, companyID string) ([]Site, error) {
	res, err := c.SitesWithDropped(ctx, companyID)
	return res.Sites, err
}

// SitesWithDropped is Sites with the count of the malformed elements it left
// out (see Dropped), for a caller that reports them.
func (c *Client) SitesWithDropped(ctx context.Context, companyID string) (SitesResult, error) {
	cl := call{endpoint: "/sites", path: "/sites",
		query: url.Values{"company": {companyID}, "include_environments": {"true"}}}
	if err := c.checkCompany(cl.endpoint, companyID); err != nil {
		return SitesResult{}, err
	}
	var res SitesResult
	err := c.getStream(ctx, cl, func(body io.Reader) (errBody *apiErrorBody, err error) {
		counted := &countedReader{r: body}
		res, errBody, err = streamSites(counted, c.maxBody/2)
		res.BodyBytes = counted.n
		return errBody, err
	})
	if err != nil {
		return SitesResult{}, err
	}
	return res, nil
}

// DecodeSites decodes a GET /sites body as Client.Sites does, reading at most
// 64 MiB. Errors are *Error of KindBadResponse or KindTooLarge.
func DecodeSites(r io.Reader) ([]Site, error) {
	size := int64(-1)
	if l, ok := r.(interface{ Len() int }); ok {
		size = int64(l.Len())
	}
	var res SitesResult
	bodyErr, err := streamCapped(r, defaultMaxResponseBytes, size, func(body io.Reader) (err error) {
		res, _, err = streamSites(body, defaultMaxResponseBytes/2)
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
	return res.Sites, nil
}

// streamSites decodes a GET /sites body as it is read, token by token: each
// site of company.sites is built as its tokens arrive, so neither the body
// nor any value of it is ever held whole, and the sites built may take at
// most budget bytes (see siteBudget). Keys are matched case-insensitively,
// as json.Unmarshal matches struct fields. A site, environment or label that
// is not an object costs only itself (res.Dropped). A well-formed body
// without company.sites, or with a wrong type on the way to it, also comes
// back read as an error body (errBody), for decodeError: some APIs send
// errors with 200.
func streamSites(r io.Reader, budget int64) (res SitesResult, errBody *apiErrorBody, err error) {
	w := &sitesWalk{in: newJSONTokens(r), budget: siteBudget{limit: budget}}
	if err := w.walk(); err != nil {
		return SitesResult{}, nil, err
	}
	if err := w.shapeError(); err != nil {
		return SitesResult{}, w.errBody.body(), err
	}
	return SitesResult{Sites: w.sites.join(), Dropped: w.dropped}, nil, nil
}

// sitesWalk keeps, of a GET /sites body, company.sites and the members of
// an error body; it skips everything else. It stops at the first syntax
// error, but goes on past a wrong type in company, as json.Unmarshal did:
// the error body's members may come after it.
type sitesWalk struct {
	in         *jsonTokens
	sites      siteList
	dropped    Dropped
	budget     siteBudget
	hasCompany bool  // company is an object
	hasSites   bool  // company.sites is an array
	badType    error // the first wrong type in company; company is then skipped
	errBody    streamedErrorBody
	cur        siteBuilder // the site being decoded, reused
}

func (w *sitesWalk) walk() error {
	k, err := w.in.first()
	switch {
	case err == io.EOF:
		return &shapeError{path: "body", problem: "is empty"}
	case err != nil:
		return err
	case k == tokObject:
		if err := w.in.members(w.topMember); err != nil {
			return err
		}
	case k != tokNull: // null is a body without company
		return wrongType("top level", k)
	}
	return w.in.end()
}

func (w *sitesWalk) topMember(key []byte) error {
	if keyIs(key, "company") {
		if w.badType != nil {
			return w.in.skip() // the sites are lost already
		}
		depth := w.in.depth
		err := w.company()
		if isWrongType(err) {
			w.badType, w.sites, w.dropped = err, siteList{}, Dropped{}
			return w.in.skipTo(depth) // the rest of company
		}
		return err
	}
	return w.errBody.member(w.in, key)
}

func (w *sitesWalk) company() error {
	k, err := w.in.next()
	switch {
	case err != nil:
		return err
	case k == tokNull: // null drops what an earlier company key gave
		w.hasCompany, w.hasSites, w.sites, w.dropped = false, false, siteList{}, Dropped{}
		return nil
	case k != tokObject:
		return wrongType("company", k)
	}
	// A repeated company key adds to the same company, as in json.Unmarshal.
	w.hasCompany = true
	return w.in.members(w.companyMember)
}

func (w *sitesWalk) companyMember(key []byte) error {
	if !keyIs(key, "sites") {
		return w.in.skip()
	}
	// A repeated sites key: the last wins.
	w.hasSites, w.sites, w.dropped = false, siteList{}, Dropped{}
	isArray, first, err := w.in.array(w.site)
	switch {
	case err != nil:
		return err
	case isArray:
		w.hasSites = true
	case first != tokNull:
		return wrongType("company.sites", first)
	}
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

// streamedErrorBody is the members of an error body met at the top level of
// a streamed body, read as apiErrorBody reads them.
type streamedErrorBody struct {
	message, error, dataMessage string
	status                      optFloat
	dataObject                  bool
}

func (e *streamedErrorBody) member(in *jsonTokens, key []byte) error {
	switch {
	case keyIs(key, "message"):
		k, err := in.leaf()
		e.message = leafString(k, in.text)
		return err
	case keyIs(key, "error"):
		k, err := in.leaf()
		e.error = leafString(k, in.text)
		return err
	case keyIs(key, "status"):
		k, err := in.leaf()
		e.status = leafFloat(k, in.text)
		return err
	case keyIs(key, "data"):
		e.dataMessage = ""
		var err error
		e.dataObject, _, err = in.object(func(key []byte) error {
			if !keyIs(key, "message") {
				return in.skip()
			}
			k, err := in.leaf()
			e.dataMessage = leafString(k, in.text)
			return err
		})
		return err
	}
	return in.skip()
}

// body returns the error body as parse reads it.
func (e *streamedErrorBody) body() *apiErrorBody {
	b := &apiErrorBody{Message: flexString(e.message), Error: flexString(e.error), Status: e.status}
	if e.dataObject {
		b.Data, _ = json.Marshal(map[string]string{"message": e.dataMessage})
	}
	return b
}

// wrongType reports a value of kind k where an object or array belongs, in
// the words describeDecodeError gives a json.UnmarshalTypeError.
func wrongType(path string, k tokKind) error {
	return &shapeError{path: path, problem: "is a JSON " + k.jsonType()}
}

// isWrongType reports whether err, of the walk of company, is a value of the
// wrong type, after which the body is still well-formed so far.
func isWrongType(err error) bool {
	_, ok := err.(*shapeError)
	return ok
}
