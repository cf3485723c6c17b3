package kinsta

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Domain is one domain of an environment, from the domains[] and
// primaryDomain of the environments GET /sites?include_environments=true
// returns (kinsta-api-supplement.md §3a).
//
// The sources disagree on the fields: the spec has id, name, site_id,
// is_active and type; the one recorded payload has id, name and type only.
// So IsActive is nil when the API did not send is_active, and a caller must
// not read that as inactive. site_id is not kept: the Site holds the domain.
type Domain struct {
	ID        string // "" when absent (e.g. a primaryDomain sent as a bare name)
	Name      string // as sent; see ExportableDomains for a normalised one
	Type      string // "live" is the only value seen, on staging domains too; others pass through
	IsActive  *bool  // nil when is_active was not sent (or null)
	IsPrimary bool   // it is the environment's primaryDomain
}

// wireEnvDomains are an environment's domains as the /sites decoder reads
// them (domainwalk.go). primaryDomain is an object in every source; a bare
// name string and the snake_case key are accepted too, as both spellings of
// site labels are.
type wireEnvDomains struct {
	Domains        []wireDomain
	PrimaryDomain  wirePrimaryDomain // primaryDomain
	PrimaryDomain2 wirePrimaryDomain // primary_domain
}

type wireDomain struct {
	ID       flexString
	Name     flexString
	Type     flexString
	IsActive optBool
}

// wirePrimaryDomain is a domain object or a bare name string.
type wirePrimaryDomain struct{ wireDomain }

// optBool is a boolean that remembers whether it was sent: set is false for
// an absent or null value and for anything that is not a boolean, "true"/
// "false"/"1"/"0" or a number.
type optBool struct {
	v, set bool
}

// parseBoolText reads "true"/"false"/"1"/"0" in any case; ok is false for
// other text.
func parseBoolText(s string) (v, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

func (w *wireDomain) domain() Domain {
	d := Domain{ID: string(w.ID), Name: string(w.Name), Type: string(w.Type)}
	if w.IsActive.set {
		active := w.IsActive.v
		d.IsActive = &active
	}
	return d
}

// is reports whether w and p are the same domain: by id when both have one,
// else by name.
func (w *wireDomain) is(p *wireDomain) bool {
	if w.ID != "" && p.ID != "" {
		return w.ID == p.ID
	}
	return strings.EqualFold(strings.TrimSpace(string(w.Name)), strings.TrimSpace(string(p.Name)))
}

// domains returns the name of the primary domain (as Environment.PrimaryDomain
// has always been: the name as sent) and the environment's domains: domains[]
// in API order without the entries that have no name, each marked IsPrimary
// when it is the primary domain, then the primary domain itself when
// domains[] lacks it. Wildcards and repeated names are kept.
func (w *wireEnvDomains) domains() (primaryName string, out []Domain) {
	primary := &w.PrimaryDomain.wireDomain
	if strings.TrimSpace(string(primary.Name)) == "" {
		primary = &w.PrimaryDomain2.wireDomain
	}
	hasPrimary := strings.TrimSpace(string(primary.Name)) != ""
	n, listed := 0, false
	for i := range w.Domains {
		if w.Domains[i].Name != "" {
			n++
			listed = listed || hasPrimary && w.Domains[i].is(primary)
		}
	}
	if hasPrimary && !listed {
		n++
	}
	if n == 0 {
		return string(primary.Name), nil
	}
	out = make([]Domain, 0, n)
	for i := range w.Domains {
		if w.Domains[i].Name == "" {
			continue
		}
		d := w.Domains[i].domain()
		d.IsPrimary = hasPrimary && w.Domains[i].is(primary)
		out = append(out, d)
	}
	if hasPrimary && !listed {
		d := primary.domain()
		d.IsPrimary = true
		out = append(out, d)
	}
	return string(primary.Name), out
}

// ExportableDomains returns the domains of e that can name a probe target
// or a label value, once each. Wildcards and repeats go here rather than in
// the decoding, so that Environment.Domains shows what the API sent.
//
//   - Names are trimmed of spaces and a final dot and lowercased.
//   - Wildcards ("*.example.com", Kinsta lists them beside the apex) are
//     dropped, and so is any name that is not a host name: empty, over 253
//     bytes, with characters other than letters, digits, '-', '_' and '.', or
//     with an empty label ("a..b", ".a").
//   - A name listed more than once is kept once, at its first place, with
//     the first entry's ID and Type. It is primary if any of its entries is;
//     IsActive is true if any entry sent true, false if they sent only false,
//     and nil if none sent is_active.
//
// The result is nil when nothing is left; e.Domains is not modified.
func (e Environment) ExportableDomains() []Domain {
	var out []Domain
	var index map[string]int // name -> position in out, for long lists only
	for _, d := range e.Domains {
		name, ok := exportableDomainName(d.Name)
		if !ok {
			continue
		}
		d.Name = name
		i := -1
		if index != nil {
			if j, seen := index[name]; seen {
				i = j
			}
		} else {
			i = indexDomain(out, name)
		}
		if i >= 0 {
			out[i] = mergeDomain(out[i], d)
			continue
		}
		out = append(out, d)
		if index == nil && len(out) > 16 {
			index = make(map[string]int, len(e.Domains))
			for j := range out {
				index[out[j].Name] = j
			}
		} else if index != nil {
			index[name] = len(out) - 1
		}
	}
	return out
}

func indexDomain(ds []Domain, name string) int {
	for i := range ds {
		if ds[i].Name == name {
			return i
		}
	}
	return -1
}

// mergeDomain folds a repeated entry into the first one. IsActive gets a new
// bool, since the pointer may be shared with Environment.Domains.
func mergeDomain(first, again Domain) Domain {
	first.IsPrimary = first.IsPrimary || again.IsPrimary
	switch {
	case again.IsActive == nil:
	case first.IsActive == nil:
		first.IsActive = again.IsActive
	case *again.IsActive && !*first.IsActive:
		active := true
		first.IsActive = &active
	}
	return first
}

// maxDomainName is the longest DNS name in text form.
const maxDomainName = 253

// exportableDomainName normalises a domain name and reports whether it is a
// host name (see ExportableDomains).
func exportableDomainName(s string) (string, bool) {
	s = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
	if s == "" || len(s) > maxDomainName || !utf8.ValidString(s) {
		return "", false
	}
	prev := '.' // a leading dot is an empty label
	for _, r := range s {
		switch {
		case r == '.' && prev == '.':
			return "", false
		case r == '.', r == '-', r == '_', unicode.IsLetter(r), unicode.IsDigit(r):
		default: // '*', spaces, ':', '/', '@', control characters, ...
			return "", false
		}
		prev = r
	}
	return s, true
}
