package rulegen

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// Values are what the placeholders of deploy/prometheus/rules.tmpl.yml are
// replaced with: ${selector} and one ${name} per threshold.
type Values struct {
	Selector   string
	Thresholds map[string]string // name -> the text that replaces ${name}
}

// valuesFile is the shape of rules.values.yml and of a user's overrides;
// the Helm chart has the same two keys under prometheusRule.
type valuesFile struct {
	Selector   *string        `json:"selector,omitempty"`
	Thresholds map[string]any `json:"thresholds,omitempty"`
}

var (
	placeholder = regexp.MustCompile(`\$\{([A-Za-z][A-Za-z0-9]*)\}`)
	// wholeNumber is what a threshold must print as. Numbers are printed as
	// Helm's toString prints them (fmt's %v of a float64), so that the chart
	// and this generator accept and write the same text.
	wholeNumber = regexp.MustCompile(`^[1-9][0-9]*$`)
)

// LoadValues reads the defaults (rules.values.yml, which must set everything)
// and applies each overrides file in turn; an override may set only some
// thresholds but no threshold the defaults lack.
func LoadValues(defaults []byte, overrides ...[]byte) (Values, error) {
	var v Values
	def, err := decodeValues(defaults)
	if err != nil {
		return v, fmt.Errorf("defaults: %w", err)
	}
	if def.Selector == nil || len(def.Thresholds) == 0 {
		return v, fmt.Errorf("defaults: selector and thresholds must both be set")
	}
	v.Thresholds = map[string]string{}
	if err := v.apply(def, nil); err != nil {
		return v, fmt.Errorf("defaults: %w", err)
	}
	for i, o := range overrides {
		f, err := decodeValues(o)
		if err != nil {
			return v, fmt.Errorf("values file %d: %w", i+1, err)
		}
		if err := v.apply(f, v.Thresholds); err != nil {
			return v, fmt.Errorf("values file %d: %w", i+1, err)
		}
	}
	return v, nil
}

// decodeValues decodes strictly: unknown keys, keys in another case and
// duplicate keys are errors.
func decodeValues(b []byte) (valuesFile, error) {
	var f valuesFile
	j, err := yaml.YAMLToJSONStrict(b)
	if err != nil {
		return f, err
	}
	strict, err := kjson.UnmarshalStrict(j, &f)
	if err != nil {
		return f, err
	}
	return f, errors.Join(strict...)
}

// apply sets the values of f; known, when not nil, holds the only threshold
// names allowed.
func (v *Values) apply(f valuesFile, known map[string]string) error {
	if f.Selector != nil {
		if err := checkSelector(*f.Selector); err != nil {
			return err
		}
		v.Selector = *f.Selector
	}
	for _, name := range slices.Sorted(maps.Keys(f.Thresholds)) {
		if _, ok := known[name]; known != nil && !ok {
			return fmt.Errorf("thresholds.%s: no such threshold (known: %s)", name, strings.Join(slices.Sorted(maps.Keys(known)), ", "))
		}
		text := fmt.Sprint(f.Thresholds[name])
		if !wholeNumber.MatchString(text) {
			return fmt.Errorf("thresholds.%s: %q is not a positive whole number", name, text)
		}
		v.Thresholds[name] = text
	}
	return nil
}

// checkSelector refuses what would break out of the {...} the selector is
// written into, or out of its line.
func checkSelector(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("selector is empty")
	case strings.ContainsAny(s, "{}\n\r"):
		return fmt.Errorf("selector %q: label matchers only, without braces or line breaks", s)
	}
	return nil
}

// Render returns the rules file that the template makes with v: header, then
// the template from its groups: line on with every ${name} replaced. Every
// placeholder must have a value and every value must be used.
func Render(tmpl []byte, v Values, header string) ([]byte, error) {
	body, err := templateBody(tmpl)
	if err != nil {
		return nil, err
	}
	vals := map[string]string{"selector": v.Selector}
	for k, t := range v.Thresholds {
		if k == "selector" {
			return nil, fmt.Errorf("a threshold may not be named selector")
		}
		vals[k] = t
	}
	used := map[string]bool{}
	var missing []string
	out := placeholder.ReplaceAllStringFunc(body, func(m string) string {
		name := m[2 : len(m)-1]
		t, ok := vals[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		used[name] = true
		return t
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("template: no value for %s", strings.Join(slices.Compact(slices.Sorted(slices.Values(missing))), ", "))
	}
	if i := strings.Index(placeholder.ReplaceAllString(body, ""), "${"); i >= 0 {
		return nil, fmt.Errorf("template: malformed placeholder near %q", snippet(placeholder.ReplaceAllString(body, ""), i))
	}
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		if !used[k] {
			return nil, fmt.Errorf("value %s is not used by the template", k)
		}
	}
	rendered := []byte(header + out)
	if _, err := Groups(rendered); err != nil {
		return nil, fmt.Errorf("rendered rules: %w", err)
	}
	return rendered, nil
}

// ChartTemplate returns the template as the Helm chart carries it: header,
// then the template from its groups: line on, placeholders kept for the
// chart's templates/prometheusrule.yaml to replace.
func ChartTemplate(tmpl []byte, header string) ([]byte, error) {
	body, err := templateBody(tmpl)
	if err != nil {
		return nil, err
	}
	if strings.Contains(header, "${") {
		return nil, fmt.Errorf("the chart template's header may not contain a placeholder")
	}
	return []byte(header + body), nil
}

// templateBody returns the template from its top-level groups: line on; only
// comments may come before it.
func templateBody(tmpl []byte) (string, error) {
	text := strings.ReplaceAll(string(tmpl), "\r\n", "\n")
	lines := strings.SplitAfter(text, "\n")
	for i, l := range lines {
		if groupsLine.MatchString(strings.TrimRight(l, "\n")) {
			return strings.Join(lines[i:], ""), nil
		}
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			return "", fmt.Errorf("template: line %d: only comments may come before groups:, got %q", i+1, strings.TrimRight(l, "\n"))
		}
	}
	return "", fmt.Errorf("template: no top-level groups: line")
}

func snippet(s string, i int) string {
	return strings.TrimSpace(s[i:min(len(s), i+30)])
}
