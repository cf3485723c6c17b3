package kinsta

// Reading an environment's domains (domains[], primaryDomain) as the
// streaming /sites decoder walks it. Domains only describe an environment
// and must not cost the inventory: a domains value that is not an array is
// no domains, and an element that is neither an object nor a name string is
// dropped; primaryDomain is an object in every source, and a bare name and
// the snake_case key are accepted too (kinsta-api-supplement.md §3a).

// domainMember reads key's value into the environment's domains when it is
// one of theirs, and reports whether it was.
func (w *sitesWalk) domainMember(key []byte) (bool, error) {
	d := &w.cur.domains
	switch {
	case keyIs(key, "domains"):
		d.Domains = d.Domains[:0] // a repeated key: the last wins
		_, _, err := w.in.array(func() error {
			var one wireDomain
			ok, err := w.domain(&one)
			if ok {
				d.Domains = append(d.Domains, one)
			}
			return err
		})
		return true, err
	case keyIs(key, "primaryDomain"):
		_, err := w.domain(&d.PrimaryDomain.wireDomain)
		return true, err
	case keyIs(key, "primary_domain"):
		_, err := w.domain(&d.PrimaryDomain2.wireDomain)
		return true, err
	}
	return false, nil
}

// domain reads the next value as a domain: an object (id, name, type,
// is_active) or a bare name string. Any other value is skipped and is no
// domain (ok false, d zero).
func (w *sitesWalk) domain(d *wireDomain) (ok bool, err error) {
	*d = wireDomain{}
	t := w.in
	depth := t.depth
	k, err := t.next()
	switch {
	case err != nil:
		return false, err
	case k == tokString:
		d.Name = flexString(t.text)
		return true, nil
	case k != tokObject:
		return false, t.skipTo(depth)
	}
	return true, t.members(func(key []byte) error {
		switch {
		case keyIs(key, "id"):
			return w.flex(&d.ID)
		case keyIs(key, "name"):
			return w.flex(&d.Name)
		case keyIs(key, "type"):
			return w.flex(&d.Type)
		case keyIs(key, "is_active"):
			k, err := t.leaf()
			d.IsActive = leafOptBool(k, t.text)
			return err
		}
		return t.skip()
	})
}

// flex reads the next value into dst as a flexString.
func (w *sitesWalk) flex(dst *flexString) error {
	var s string
	err := w.str(&s)
	*dst = flexString(s)
	return err
}

// leafOptBool is optBool of a leaf: unset for null and for text that is not
// a boolean.
func leafOptBool(k tokKind, text []byte) optBool {
	switch k {
	case tokTrue, tokFalse, tokNumber:
		return optBool{v: leafBool(k, text), set: true}
	case tokString:
		v, ok := parseBoolText(string(text))
		return optBool{v: v, set: ok}
	}
	return optBool{}
}
