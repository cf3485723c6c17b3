// Package config reads the exporter's configuration file (--config.file): the
// Kinsta companies to export, each with the file holding its API key. Keys
// stay in files on the server; they never appear in the configuration file, a
// flag, a URL or an error.
//
//	api_key_file: keys/agency.key       # default for companies without their own
//	companies:
//	  - id: 54fb80af-576c-4fdc-ba4f-b596c83f15a1
//	    name: Agency sites                # optional; exported by kinsta_company_info
//	  - id: 7c5e4a8f-1e47-4a43-9f0c-1a2b3c4d5e6f
//	    name: Client A
//	    api_key_file: /etc/kinsta_exporter/client-a.key
//
// Decoding is strict: unknown fields, duplicate keys, duplicate company ids,
// ids that kinsta.CheckCompanyID refuses and more than one YAML document are
// errors. The file and the key files must be regular files: a FIFO or a
// device is refused at once. Relative key file paths are resolved
// against the configuration file's directory. Errors name the file, the company
// (index and id) and the field, on one line.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// MaxKeyFileBytes bounds what is read of a key file: an API key is short, and
// a key file pointing at a device or a large file by mistake must not hang or
// exhaust the exporter.
const MaxKeyFileBytes = 4096

// File is the configuration file as written.
type File struct {
	// APIKeyFile is the key file of companies that name none.
	APIKeyFile string    `yaml:"api_key_file,omitempty"`
	Companies  []Company `yaml:"companies"`
}

// Company is one configured company.
type Company struct {
	ID         string `yaml:"id"`
	Name       string `yaml:"name,omitempty"`
	APIKeyFile string `yaml:"api_key_file,omitempty"`
}

// Secret is an API key. It prints as [REDACTED], so that a key in a struct
// that ends up in a log or an error by mistake is not revealed.
type Secret string

func (Secret) String() string   { return "[REDACTED]" }
func (Secret) GoString() string { return "[REDACTED]" }

// Config is a loaded configuration: every company with its key read.
type Config struct {
	// Path is the configuration file.
	Path      string
	Companies []LoadedCompany // in file order
	// WorldReadable lists the key files every user of the host can read,
	// which deserves a warning.
	WorldReadable []string
}

// LoadedCompany is a company with its API key.
type LoadedCompany struct {
	ID         string
	Name       string
	APIKeyFile string // resolved
	APIKey     Secret
}

// Load reads, parses and validates the configuration file at path and reads
// every key file it names. The configuration file and the key files must be
// regular files (see readRegularFile), of at most MaxConfigFileBytes and
// MaxKeyFileBytes.
func Load(path string) (*Config, error) {
	data, err := readRegularFile(path, MaxConfigFileBytes)
	if err != nil {
		return nil, err
	}
	f, err := Parse(path, data)
	if err != nil {
		return nil, err
	}
	cfg := &Config{Path: path, Companies: make([]LoadedCompany, 0, len(f.Companies))}
	keys := map[string]Secret{} // a key file shared by companies is read once
	var errs []string
	for i, c := range f.Companies {
		key, ok := keys[c.APIKeyFile]
		if !ok {
			key, err = ReadKeyFile(c.APIKeyFile)
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: api_key_file: %v", where(i, c.ID), err))
				continue
			}
			keys[c.APIKeyFile] = key
			if WorldReadable(c.APIKeyFile) {
				cfg.WorldReadable = append(cfg.WorldReadable, c.APIKeyFile)
			}
		}
		cfg.Companies = append(cfg.Companies, LoadedCompany{ID: c.ID, Name: c.Name, APIKeyFile: c.APIKeyFile, APIKey: key})
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %s", path, strings.Join(errs, "; "))
	}
	return cfg, nil
}

// ReadKeyFile reads an API key from a regular file (a FIFO or a device is
// refused without blocking; see readRegularFile): surrounding whitespace is
// trimmed, and an empty key, a key with inner whitespace or control
// characters and a file over MaxKeyFileBytes are errors. Errors never quote
// the file's content.
func ReadKeyFile(path string) (Secret, error) {
	b, err := readRegularFile(path, MaxKeyFileBytes)
	var tooLarge *tooLargeError
	if errors.As(err, &tooLarge) {
		return "", fmt.Errorf("%v; it should hold only the API key", err)
	}
	if err != nil {
		return "", err
	}
	key := strings.TrimSpace(string(b))
	switch {
	case key == "":
		return "", fmt.Errorf("%s is empty", path)
	case strings.IndexFunc(key, func(r rune) bool { return r <= ' ' || r == 0x7f || unicode.IsSpace(r) }) >= 0:
		return "", fmt.Errorf("%s holds more than one word or control characters; it should hold only the API key", path)
	}
	return Secret(key), nil
}

// WorldReadable reports whether every user of the host can read path.
func WorldReadable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().Perm()&0o004 != 0
}

// Parse decodes and validates a configuration file's content; path names it
// in errors and its directory resolves relative key file paths. Parse reads
// no file. In the result every company's APIKeyFile is set (the top-level
// default filled in) and resolved.
func Parse(path string, data []byte) (*File, error) {
	f, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := f.resolve(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// decode decodes strictly, turning yaml's multi-line errors into one line that
// names the company of each error's line.
func decode(data []byte) (*File, error) {
	// A first pass into nodes reports syntax errors and finds the line
	// ranges of the companies, for naming them in the strict pass's errors.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty")
		}
		return nil, cleanError(err, nil)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, cleanError(err, nil)
		}
		return nil, fmt.Errorf("line %d: more than one YAML document", extra.Line)
	}
	spans := companySpans(&root)

	var f File
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&f); err != nil {
		return nil, cleanError(err, spans)
	}
	return &f, nil
}

// span is the first line of a company's entry in the file and its id.
type span struct {
	line int
	id   string
}

// companySpans returns the start line and id of each entry of the top-level
// companies sequence, in order.
func companySpans(root *yaml.Node) []span {
	doc := root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if doc.Content[i].Value != "companies" || doc.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		var spans []span
		for _, item := range doc.Content[i+1].Content {
			s := span{line: item.Line}
			if item.Kind == yaml.MappingNode {
				for j := 0; j+1 < len(item.Content); j += 2 {
					if item.Content[j].Value == "id" && item.Content[j+1].Kind == yaml.ScalarNode {
						s.id = item.Content[j+1].Value
					}
				}
			}
			spans = append(spans, s)
		}
		return spans
	}
	return nil
}

var (
	lineRE     = regexp.MustCompile(`^line (\d+): (.*)$`)
	notFoundRE = regexp.MustCompile(`^field (.+) not found in type [\w.]+$`)
	// goTypes says what yaml names by Go type.
	goTypes = strings.NewReplacer(
		" into []config.Company", " into a list of companies",
		" into config.Company", " into a company (a mapping with id, name, api_key_file)",
		" into config.File", " into the configuration (a mapping with api_key_file, companies)",
	)
)

// cleanError turns a yaml error into one line: the "yaml:" prefix dropped,
// each line-numbered error prefixed with the company whose entry holds the
// line, "field x not found in type config.Company" said as an unknown field.
func cleanError(err error, spans []span) error {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	out := make([]string, 0, len(msgs))
	for _, m := range msgs {
		m = strings.TrimPrefix(strings.TrimSpace(m), "yaml: ")
		prefix := ""
		if sub := lineRE.FindStringSubmatch(m); sub != nil {
			var line int
			fmt.Sscan(sub[1], &line)
			m = sub[2]
			prefix = fmt.Sprintf("line %d: ", line)
			if i := spanAt(spans, line); i >= 0 {
				prefix = where(i, spans[i].id) + ": " + prefix
			}
		}
		if sub := notFoundRE.FindStringSubmatch(m); sub != nil {
			m = fmt.Sprintf("unknown field %q", sub[1])
		}
		m = goTypes.Replace(m)
		out = append(out, prefix+m)
	}
	// Values quoted by yaml may hold line breaks: the error stays one line.
	return errors.New(strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(strings.Join(out, "; ")))
}

// spanAt returns the index of the company whose entry holds line, or -1.
func spanAt(spans []span, line int) int {
	found := -1
	for i, s := range spans {
		if s.line <= line {
			found = i
		}
	}
	return found
}

// where names a company in errors: its index, and its id when it has one.
func where(i int, id string) string {
	if id == "" {
		return fmt.Sprintf("companies[%d]", i)
	}
	return fmt.Sprintf("companies[%d] (id %q)", i, id)
}

// resolve validates the decoded file, fills in the default key file and
// resolves key file paths against dir.
func (f *File) resolve(dir string) error {
	if len(f.Companies) == 0 {
		return errors.New("companies: none configured; list at least one company")
	}
	var errs []string
	if f.APIKeyFile != "" {
		f.APIKeyFile = resolvePath(dir, f.APIKeyFile)
	}
	first := map[string]int{}
	for i := range f.Companies {
		c := &f.Companies[i]
		if err := checkID(c.ID); err != nil {
			errs = append(errs, fmt.Sprintf("%s: id: %v", where(i, c.ID), err))
		} else if j, dup := first[c.ID]; dup {
			errs = append(errs, fmt.Sprintf("%s: id: duplicate of companies[%d]", where(i, c.ID), j))
		} else {
			first[c.ID] = i
		}
		if strings.ContainsFunc(c.Name, unicode.IsControl) {
			errs = append(errs, fmt.Sprintf("%s: name: must not contain control characters", where(i, c.ID)))
		}
		switch {
		case c.APIKeyFile != "":
			c.APIKeyFile = resolvePath(dir, c.APIKeyFile)
		case f.APIKeyFile != "":
			c.APIKeyFile = f.APIKeyFile
		default:
			errs = append(errs, fmt.Sprintf("%s: api_key_file: required (or set a top-level api_key_file for all companies)", where(i, c.ID)))
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// checkID is kinsta.CheckCompanyID, the one check of company ids, worded
// for the configuration file.
func checkID(id string) error {
	if id == "" {
		return errors.New("required")
	}
	var bad *kinsta.CompanyIDError
	if errors.As(kinsta.CheckCompanyID(id), &bad) {
		return errors.New(bad.Reason)
	}
	return nil
}

func resolvePath(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}
