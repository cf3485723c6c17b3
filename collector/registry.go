package collector

import (
	"fmt"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// The names of the switchable collectors: flag names and the values of the
// collector label. The core "sites" collector is always on.
const (
	apikeyName    = "apikey"
	apikeysName   = "apikeys"
	backupsName   = "backups"
	pluginsName   = "plugins"
	themesName    = "themes"
	usageName     = "usage"
	diskName      = "disk"
	responsesName = "responses"
	activityName  = "activity"
)

// MinInterval and MaxInterval clamp --collector.<name>.interval: below a
// minute a collector would spend the API budget on data Kinsta refreshes far
// less often; above a day its series would outlive their meaning.
const (
	MinInterval = time.Minute
	MaxInterval = 24 * time.Hour
)

// definition is one switchable collector, registered the node_exporter way:
// a name, whether it is on by default, its default refresh interval.
type definition struct {
	name             string
	enabledByDefault bool
	interval         time.Duration
	help             string
	newCollector     func(api API) itemCollector
}

// definitions is the registry, in the order flags and series are listed.
var definitions = [...]definition{
	{apikeyName, true, time.Hour,
		"API key name, status and expiry (GET /validate).", newAPIKeyCollector},
	{apikeysName, true, time.Hour,
		"Name, status and expiry of every API key of the company, not only the exporter's (GET /company/{id}/api-keys, one call per company).", newAPIKeysCollector},
	{backupsName, true, time.Hour,
		"Newest backup and backup count per environment and backup type (GET /sites/environments/{env_id}/backups, one call per environment).", newBackupsCollector},
	{pluginsName, true, time.Hour,
		"WordPress plugins: per environment counts by status, updates available and vulnerable installs; per company installs per plugin (GET /company/{id}/wp-plugins, falling back to one call per environment). Kinsta refreshes this data at most every ~12h.", newPluginsCollector},
	{themesName, true, time.Hour,
		"WordPress themes, like the plugins collector (GET /company/{id}/wp-themes, falling back to one call per environment).", newThemesCollector},
	{usageName, true, time.Hour,
		"This month's visits, bandwidth and CDN bandwidth per site (GET /sites/{id}/usage/*/this-month, three calls per site).", newUsageCollector},
	{diskName, true, 6 * time.Hour,
		"Disk usage per environment (GET /sites/environments/{env_id}/analytics/diskspace, one call per environment).", newDiskCollector},
	{responsesName, true, time.Hour,
		"Responses of the last 24 hours by HTTP status code per live environment (GET /sites/environments/{env_id}/analytics/response-codes, one call per live environment).", newResponsesCollector},
	{activityName, false, 15 * time.Minute,
		"Finished and failed operations by type since the exporter started (GET /company/{id}/activity-logs).", newActivityCollector},
}

func lookupDefinition(name string) (definition, bool) {
	for _, d := range definitions {
		if d.name == name {
			return d, true
		}
	}
	return definition{}, false
}

// CollectorNames returns the names of the switchable collectors.
func CollectorNames() []string {
	names := make([]string, len(definitions))
	for i, d := range definitions {
		names[i] = d.name
	}
	return names
}

// FlagApp is the part of *kingpin.Application that RegisterFlags needs.
type FlagApp interface {
	Flag(name, help string) *kingpin.FlagClause
}

// Flags holds the parsed --collector.* flags.
type Flags struct {
	enabled   map[string]*bool
	set       map[string]*bool // --[no-]collector.<name> was given
	intervals map[string]*time.Duration
}

// RegisterFlags adds, for every switchable collector, --[no-]collector.<name>
// and --collector.<name>.interval (clamped to [MinInterval, MaxInterval]; a
// value outside fails parsing with an error naming the flag).
func RegisterFlags(app FlagApp) *Flags {
	f := &Flags{enabled: map[string]*bool{}, set: map[string]*bool{}, intervals: map[string]*time.Duration{}}
	for _, d := range definitions {
		state := "disabled"
		if d.enabledByDefault {
			state = "enabled"
		}
		f.set[d.name] = new(bool)
		f.enabled[d.name] = app.Flag("collector."+d.name,
			fmt.Sprintf("Enable the %s collector (default: %s). %s", d.name, state, d.help)).
			Default(fmt.Sprint(d.enabledByDefault)).IsSetByUser(f.set[d.name]).Bool()
		iv := new(time.Duration)
		name := "collector." + d.name + ".interval"
		app.Flag(name, fmt.Sprintf("How often the %s collector refreshes each company, site or environment (%s to %s).", d.name, MinInterval, MaxInterval)).
			Default(d.interval.String()).SetValue(&intervalValue{name: name, dst: iv})
		f.intervals[d.name] = iv
	}
	return f
}

// EnableAll switches on every collector whose flag was not given: the
// demo shows everything.
func (f *Flags) EnableAll() {
	for name, set := range f.set {
		if !*set {
			*f.enabled[name] = true
		}
	}
}

// Collectors returns the enabled collectors with their refresh intervals, for
// Config.Collectors.
func (f *Flags) Collectors() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, d := range definitions {
		if *f.enabled[d.name] {
			out[d.name] = *f.intervals[d.name]
		}
	}
	return out
}

// intervalValue parses a collector interval and enforces the clamp, with
// errors that name the flag.
type intervalValue struct {
	name string
	dst  *time.Duration
	raw  string
}

func (v *intervalValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("--%s=%q: %w", v.name, s, err)
	}
	if d < MinInterval || d > MaxInterval {
		return fmt.Errorf("--%s=%s: must be between %s and %s", v.name, s, MinInterval, MaxInterval)
	}
	*v.dst, v.raw = d, s
	return nil
}

func (v *intervalValue) String() string { return v.raw }
