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
// one request: GET /sites?company=ID&include_environments=true.
func (c *Client) Sites(ctx context.Context, companyID string) ([]Site, error) {
	if companyID == "" {
		return nil, errors.New("kinsta: Sites: empty company id")
	}
	var sites []Site
	cl := call{endpoint: "/sites", path: "/sites",
		query: url.Values{"company": {companyID}, "include_environments": {"true"}}}
	err := c.get(ctx, cl, func(body []byte) error {
		var err error
		sites, err = decodeSites(body)
		return err
	})
	return sites, err
}

// DecodeSites decodes a GET /sites body as Client.Sites does, reading at most
// 64 MiB. Errors are *Error of KindBadResponse or KindTooLarge.
func DecodeSites(r io.Reader) ([]Site, error) {
	hint := int64(-1)
	if l, ok := r.(interface{ Len() int }); ok {
		hint = int64(l.Len())
	}
	body, err := readCapped(r, defaultMaxResponseBytes, hint)
	switch {
	case errors.Is(err, errTooLarge):
		return nil, &Error{Kind: KindTooLarge, Message: "response body over 64 MiB"}
	case err != nil:
		return nil, &Error{Kind: KindBadResponse, Message: "reading body", Err: err}
	}
	sites, err := decodeSites(body)
	if err != nil {
		msg, cause := describeDecodeError(err)
		return nil, &Error{Kind: KindBadResponse, Message: msg, Err: cause}
	}
	return sites, nil
}

type wireSitesResponse struct {
	Company *struct {
		Sites *[]wireSite `json:"sites"`
	} `json:"company"`
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
	PrimaryDomain    *struct {
		Name flexString `json:"name"`
	} `json:"primaryDomain"`
	ContainerInfo *struct {
		PHPEngineVersion flexString `json:"php_engine_version"`
	} `json:"container_info"`
	// ssh_connection (whose ssh_port is a string or a number), domains and
	// the rest are not decoded at all, so their types cannot break anything.
}

func decodeSites(body []byte) ([]Site, error) {
	var w *wireSitesResponse
	if err := decodeJSON(body, &w); err != nil {
		return nil, err
	}
	switch {
	case w == nil || w.Company == nil:
		return nil, missing("company")
	case w.Company.Sites == nil:
		return nil, missing("company.sites")
	}
	wire := *w.Company.Sites
	sites := make([]Site, 0, len(wire))
	for i := range wire {
		sites = append(sites, wire[i].site())
	}
	return sites, nil
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
	if w.PrimaryDomain != nil {
		e.PrimaryDomain = string(w.PrimaryDomain.Name)
	}
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
