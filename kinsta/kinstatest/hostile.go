package kinstatest

import (
	"bytes"
	"net/http"
	"strings"
)

// HostileKind names an answer a broken or malicious API could send, for
// Fault.Hostile. The large ones are generated as they are sent, never held,
// so that a test measuring the client's memory measures only the client.
type HostileKind int

// The hostile answers. Bytes is Hostile.Bytes: the size of the filler that
// makes a body large. Unless said otherwise the status is 200 and the body is
// well-formed JSON, so that a client which does not bound its memory decodes
// it in full.
const (
	HostileNone HostileKind = iota

	// HostileWhitespace is `{`, Bytes of white space, then an empty company:
	// a valid GET /sites body.
	HostileWhitespace
	// HostileLongString is a GET /sites body of one site whose name is a
	// string of Bytes bytes.
	HostileLongString
	// HostileLongNumber is a body whose unknown member "x" before company is
	// a number of Bytes digits.
	HostileLongNumber
	// HostileBigSite is one site with an unknown member "x": an array of
	// Bytes bytes of small numbers.
	HostileBigSite
	// HostileBigLabel is one site with one label object holding such an array.
	HostileBigLabel
	// HostileBigEnvironment is one site with one environment object holding
	// such an array.
	HostileBigEnvironment
	// HostileTinySites is company.sites of Bytes bytes of empty objects.
	HostileTinySites

	// HostileBadElements is the company's real GET /sites body (with
	// environments) with malformed elements added: a site that is a string,
	// a site that is a number, a site whose environments is an object, a site
	// whose siteLabels has a string and a number among good labels, a site
	// with an environment that is a string among good ones.
	HostileBadElements

	// HostileValidateDotDot is a GET /validate body naming the company "..".
	HostileValidateDotDot

	// The key echoes answer 400 with an error body whose message repeats the
	// API key the Fake accepts, disguised: with a NUL inside, upper-cased,
	// split by a space, a 12-character part of it, and in data.message
	// between zero-width spaces.
	HostileKeyEchoNUL
	HostileKeyEchoUpper
	HostileKeyEchoSplit
	HostileKeyEchoPart
	HostileKeyEchoNested
)

// Hostile is a hostile answer: Fault{Hostile: Hostile{Kind: HostileWhitespace,
// Bytes: 60 << 20}}. Like every fault it answers before the key is checked.
type Hostile struct {
	Kind  HostileKind
	Bytes int64 // filler size of the large kinds
}

// hostileStream is a large body: head, filler repeated to Bytes bytes, tail.
type hostileStream struct{ head, filler, tail string }

var hostileStreams = map[HostileKind]hostileStream{
	HostileWhitespace:     {`{`, " \n\t\r", `"company":{"sites":[]}}`},
	HostileLongString:     {`{"company":{"sites":[{"id":"s","name":"`, "a", `"}]}}`},
	HostileLongNumber:     {`{"x":1`, "0", `,"company":{"sites":[]}}`},
	HostileBigSite:        {`{"company":{"sites":[{"id":"s","x":[`, "1,", `1]}]}}`},
	HostileBigLabel:       {`{"company":{"sites":[{"id":"s","siteLabels":[{"id":"l","name":"n","x":[`, "1,", `1]}]}]}}`},
	HostileBigEnvironment: {`{"company":{"sites":[{"id":"s","environments":[{"id":"e","x":[`, "1,", `1]}]}]}}`},
	HostileTinySites:      {`{"company":{"sites":[`, "{},", `{}]}}`},
}

// badElements are the malformed GET /sites elements of HostileBadElements.
const badElements = `"not a site",42,` +
	`{"id":"bad-environments","name":"bad-environments","environments":{"id":"e"}},` +
	`{"id":"bad-labels","siteLabels":[{"id":"l1","name":"good"},"str",7,{"id":"l2","name":"also good"}]},` +
	`{"id":"bad-environment","environments":[{"id":"bad-environment-live","name":"live"},"str",{"id":"bad-environment-staging","name":"staging"}]}`

// writeHostile sends the hostile answer h, whatever the route.
func (f *Fake) writeHostile(w http.ResponseWriter, r *http.Request, h Hostile) {
	if s, ok := hostileStreams[h.Kind]; ok {
		writeStream(w, r, s, h.Bytes)
		return
	}
	var rep reply
	switch h.Kind {
	case HostileBadElements:
		rep = f.badElementsReply(r)
	case HostileValidateDotDot:
		rep = reply{status: http.StatusOK, contentType: contentTypeJSON,
			body: []byte(`{"name":"hostile","company":"..","status":"active","expires_at":null}`)}
	case HostileKeyEchoNUL, HostileKeyEchoUpper, HostileKeyEchoSplit, HostileKeyEchoPart, HostileKeyEchoNested:
		rep = keyEchoReply(h.Kind, f.apiKey)
	default:
		rep = statusReply(http.StatusInternalServerError)
	}
	f.write(w, r, rep, 0)
}

func writeStream(w http.ResponseWriter, r *http.Request, s hostileStream, size int64) {
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write([]byte(s.head)); err != nil {
		return
	}
	chunk := []byte(strings.Repeat(s.filler, max(1, (32<<10)/len(s.filler))))
	for left := size; left > 0; {
		n := min(left, int64(len(chunk)))
		n -= n % int64(len(s.filler)) // whole fillers only: "1," must not be cut
		if n == 0 {
			break
		}
		if _, err := w.Write(chunk[:n]); err != nil || r.Context().Err() != nil {
			return
		}
		left -= n
	}
	_, _ = w.Write([]byte(s.tail))
}

// badElementsReply is the company's real GET /sites body with badElements
// added at the end of company.sites.
func (f *Fake) badElementsReply(r *http.Request) reply {
	rep := f.sites(r, "")
	if rep.status != http.StatusOK {
		return rep
	}
	body := rep.body
	const tail = `]}}`
	head := bytes.TrimSuffix(body, []byte(tail))
	out := make([]byte, 0, len(body)+len(badElements)+1)
	out = append(out, head...)
	if !bytes.HasSuffix(head, []byte("[")) {
		out = append(out, ',')
	}
	out = append(out, badElements...)
	out = append(out, tail...)
	rep.body = out
	return rep
}

// keyEchoReply is a 400 error body repeating key in the disguise kind names.
func keyEchoReply(kind HostileKind, key string) reply {
	key = jsonInner(key)
	half := len(key) / 2 // the key is header-safe ASCII: no escape is cut
	var msg, data string
	switch kind {
	case HostileKeyEchoNUL:
		msg = "Invalid API key " + key[:half] + `\u0000` + key[half:]
	case HostileKeyEchoUpper:
		msg = "Invalid API key " + strings.ToUpper(key)
	case HostileKeyEchoSplit:
		msg = "Invalid API key " + key[:half] + " " + key[half:]
	case HostileKeyEchoPart:
		part := key[max(0, half-6):min(len(key), half+6)]
		msg = "Invalid API key ending in ..." + part
	case HostileKeyEchoNested:
		msg = "Bad request"
		data = `\u200b` + key + `\u200b`
	}
	body := `{"message":"` + msg + `","status":400`
	if data != "" {
		body += `,"data":{"message":"key ` + data + ` rejected"}`
	}
	return reply{status: http.StatusBadRequest, contentType: contentTypeJSON, body: []byte(body + "}")}
}

// jsonInner is s as the inside of a JSON string.
func jsonInner(s string) string {
	b := marshal(s)
	return string(b[1 : len(b)-1])
}

// SetPageSizeCap makes GET /company/{id}/wp-plugins and /wp-themes answer at
// most n items per page whatever limit is asked, as a server with its own
// maximum page size would; total stays the full count. 0 removes the cap.
func (f *Fake) SetPageSizeCap(n int) { f.pageCap.Store(int64(max(n, 0))) }

// SetUnprefixedInstallFields makes GET /company/{id}/wp-plugins and
// /wp-themes send the per-environment fields as status, version, update,
// update_version, without the plugin_/theme_ prefix (one client's reading of
// the newer spec).
func (f *Fake) SetUnprefixedInstallFields(on bool) { f.unprefixed.Store(on) }

// capPage applies SetPageSizeCap to a requested limit.
func (f *Fake) capPage(limit int) int {
	if c := int(f.pageCap.Load()); c > 0 {
		return min(limit, c)
	}
	return limit
}

// wireCompanyInstall is an environment of the company-wide lists with the
// unprefixed field names.
type wireCompanyInstall struct {
	ID                string  `json:"id"`
	SiteDisplayName   string  `json:"site_display_name"`
	DisplayName       string  `json:"display_name"`
	Status            string  `json:"status"`
	Version           string  `json:"version"`
	Update            *string `json:"update"`
	UpdateVersion     *string `json:"update_version"`
	VersionVulnerable bool    `json:"is_version_vulnerable"`
}

// installsWire returns the environments of one company-wide item as sent:
// envs as they are (plugins), converted to theme_ names, or unprefixed.
func (f *Fake) installsWire(envs []wireCompanyPluginEnv, themes bool) any {
	switch {
	case f.unprefixed.Load():
		out := make([]wireCompanyInstall, len(envs))
		for i, e := range envs {
			out[i] = wireCompanyInstall{ID: e.ID, SiteDisplayName: e.SiteDisplayName, DisplayName: e.DisplayName,
				Status: e.Status, Version: e.Version, Update: e.Update, UpdateVersion: e.UpdateVersion,
				VersionVulnerable: e.VersionVulnerable}
		}
		return out
	case themes:
		out := make([]wireCompanyThemeEnv, len(envs))
		for i, e := range envs {
			out[i] = wireCompanyThemeEnv(e)
		}
		return out
	}
	return envs
}
