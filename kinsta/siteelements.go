package kinsta

import (
	"fmt"
	"slices"
	"strings"
	"unsafe"
)

// siteBuilder is the site being decoded and the parts it is made of; its
// slices are reused from site to site and copied out at its end.
type siteBuilder struct {
	site    Site
	labels  [2][]Label // siteLabels (the spec's name), site_labels (seen in a production client)
	envs    []Environment
	env     Environment    // the environment being decoded
	domains wireEnvDomains // its domains (domainwalk.go)
	label   Label          // the label being decoded
}

// site decodes one element of company.sites. An element that is not an
// object is dropped and counted; so are its environments and labels that
// are not objects.
func (w *sitesWalk) site() error {
	b := &w.cur
	b.site, b.labels[0], b.labels[1], b.envs = Site{}, b.labels[0][:0], b.labels[1][:0], b.envs[:0]
	isObject, _, err := w.in.object(w.siteMember)
	switch {
	case err != nil:
		return err
	case !isObject:
		w.dropped.Sites++
		return nil
	}
	s := b.site
	s.Labels = mergeLabels(b.labels[0], b.labels[1])
	if len(b.envs) > 0 {
		s.Environments = slices.Clone(b.envs)
	}
	if err := w.budget.spend(siteSize(&s)); err != nil {
		return err
	}
	w.sites.add(s)
	return nil
}

func (w *sitesWalk) siteMember(key []byte) error {
	s := &w.cur.site
	switch {
	case keyIs(key, "environments"):
		w.cur.envs = w.cur.envs[:0] // a repeated key: the last wins
		return w.list(&w.dropped.Environments, w.environment)
	case keyIs(key, "siteLabels"):
		w.cur.labels[0] = w.cur.labels[0][:0]
		return w.list(&w.dropped.Labels, func() error { return w.label(0) })
	case keyIs(key, "site_labels"):
		w.cur.labels[1] = w.cur.labels[1][:0]
		return w.list(&w.dropped.Labels, func() error { return w.label(1) })
	case keyIs(key, "id"):
		return w.str(&s.ID)
	case keyIs(key, "name"):
		return w.str(&s.Name)
	case keyIs(key, "display_name"):
		return w.str(&s.DisplayName)
	case keyIs(key, "status"):
		return w.str(&s.Status)
	}
	return w.in.skip()
}

// list reads a list of elements: an array, whose elements elem reads, or
// null (no elements). Any other value counts as one dropped element.
func (w *sitesWalk) list(dropped *int, elem func() error) error {
	isArray, first, err := w.in.array(elem)
	if err == nil && !isArray && first != tokNull {
		*dropped++
	}
	return err
}

// str reads the next value into dst as a flexString.
func (w *sitesWalk) str(dst *string) error {
	k, err := w.in.leaf()
	*dst = leafString(k, w.in.text)
	return err
}

// environment decodes one element of a site's environments.
func (w *sitesWalk) environment() error {
	e := &w.cur.env
	*e = Environment{}
	w.cur.domains = wireEnvDomains{Domains: w.cur.domains.Domains[:0]}
	isObject, _, err := w.in.object(w.environmentMember)
	switch {
	case err != nil:
		return err
	case !isObject:
		w.dropped.Environments++
		return nil
	}
	e.PrimaryDomain, e.Domains = w.cur.domains.domains()
	if err := w.budget.spend(environmentSize(e)); err != nil {
		return err
	}
	w.cur.envs = append(w.cur.envs, *e)
	return nil
}

func (w *sitesWalk) environmentMember(key []byte) error {
	e := &w.cur.env
	switch {
	case keyIs(key, "id"):
		return w.str(&e.ID)
	case keyIs(key, "name"):
		return w.str(&e.Name)
	case keyIs(key, "display_name"):
		return w.str(&e.DisplayName)
	case keyIs(key, "wordpress_version"):
		return w.str(&e.WordPressVersion)
	case keyIs(key, "is_blocked"):
		return w.boolean(&e.IsBlocked)
	case keyIs(key, "is_premium"):
		return w.boolean(&e.IsPremium)
	case keyIs(key, "container_info"):
		var php string
		err := w.nestedLeaf("php_engine_version", &php)
		e.PHPVersion = phpVersion(php)
		return err
	}
	if ok, err := w.domainMember(key); ok {
		return err
	}
	// ssh_connection (whose ssh_port is a string or a number) and the rest
	// are skipped, so their types cannot break anything.
	return w.in.skip()
}

// boolean reads the next value into dst as a flexBool.
func (w *sitesWalk) boolean(dst *bool) error {
	k, err := w.in.leaf()
	*dst = leafBool(k, w.in.text)
	return err
}

// nestedLeaf reads the member name of an object into dst; a value that is
// not an object leaves dst as it is.
func (w *sitesWalk) nestedLeaf(name string, dst *string) error {
	_, _, err := w.in.object(func(key []byte) error {
		if keyIs(key, name) {
			return w.str(dst)
		}
		return w.in.skip()
	})
	return err
}

// label decodes one element of a site's label list i.
func (w *sitesWalk) label(i int) error {
	l := &w.cur.label
	*l = Label{}
	isObject, _, err := w.in.object(func(key []byte) error {
		switch {
		case keyIs(key, "id"):
			return w.str(&l.ID)
		case keyIs(key, "name"):
			return w.str(&l.Name)
		}
		return w.in.skip()
	})
	switch {
	case err != nil:
		return err
	case !isObject:
		w.dropped.Labels++
		return nil
	}
	if err := w.budget.spend(labelSize(l)); err != nil {
		return err
	}
	w.cur.labels[i] = append(w.cur.labels[i], *l)
	return nil
}

// siteBudget bounds the memory of the sites decoded from one body. A tiny
// element decodes into a much larger struct: `{},` is 3 bytes and a Site 112,
// and 60 MB of them held 4.7 GB of heap. The budget is half the size cap
// (Config.MaxResponseBytes): the decoded sites of a real body take about a
// third of its size, and joining the sites into one slice copies the Site
// structs once more.
type siteBudget struct{ limit, spent int64 }

// budgetError is a body whose sites would take more memory than the budget.
type budgetError struct{ budget int64 }

func (e *budgetError) Error() string {
	return fmt.Sprintf("the decoded sites would take over %d bytes (half of the response size cap): a body of many tiny elements?", e.budget)
}

func (b *siteBudget) spend(n int) error {
	if b.spent += int64(n); b.spent > b.limit {
		return &budgetError{budget: b.limit}
	}
	return nil
}

// The sizes charged to the budget: the struct and the bytes of its strings
// (each string the decoder returns is a new allocation).
func siteSize(s *Site) int {
	return int(unsafe.Sizeof(*s)) + len(s.ID) + len(s.Name) + len(s.DisplayName) + len(s.Status)
}

func environmentSize(e *Environment) int {
	n := int(unsafe.Sizeof(*e)) + len(e.ID) + len(e.Name) + len(e.DisplayName) +
		len(e.PrimaryDomain) + len(e.PHPVersion) + len(e.WordPressVersion)
	for _, d := range e.Domains {
		n += int(unsafe.Sizeof(d)) + len(d.ID) + len(d.Name) + len(d.Type)
	}
	return n
}

func labelSize(l *Label) int { return int(unsafe.Sizeof(*l)) + len(l.ID) + len(l.Name) }

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

// mergeLabels joins both label spellings, dropping empty and repeated ones.
// A long list is checked for repeats with a map: comparing every label with
// every other made a site of a million labels take hours.
func mergeLabels(lists ...[]Label) []Label {
	var out []Label
	var seen map[Label]bool
	for _, list := range lists {
		for _, l := range list {
			if (l == Label{}) || containsLabel(out, seen, l) {
				continue
			}
			out = append(out, l)
			if seen == nil && len(out) > 16 {
				seen = make(map[Label]bool, len(out))
				for _, x := range out {
					seen[x] = true
				}
			} else if seen != nil {
				seen[l] = true
			}
		}
	}
	return out
}

func containsLabel(labels []Label, seen map[Label]bool, l Label) bool {
	if seen != nil {
		return seen[l]
	}
	return slices.Contains(labels, l)
}

// phpVersion turns "php8.3" into "8.3"; other spellings pass through trimmed.
func phpVersion(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 3 && strings.EqualFold(s[:3], "php") {
		s = strings.TrimSpace(s[3:])
	}
	return s
}
