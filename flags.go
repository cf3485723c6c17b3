package main

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/alecthomas/units"
	"github.com/kinsta-exporter/kinsta_exporter/collector"
)

// The kinds of flag values main.go's flags take, each with errors that name
// the flag.

// limitFlags registers --limit.*, the bounds on what an API answer can make
// the exporter hold (collector.Limits; README, Limits).
func limitFlags(app *kingpin.Application, l *collector.Limits) {
	hard := fmt.Sprintf(" Over %d times as many fail the refresh as bad_response, keeping the last good data.", collector.HardLimitFactor)
	for _, f := range []struct {
		name, help string
		def        int
		dst        *int
	}{
		{"label-value-length", "Longest label value exported, in bytes; longer ones (site, label and plugin names, ids, ...) are cut at a UTF-8 boundary.", collector.DefaultLabelValueLength, &l.LabelValueLength},
		{"labels-per-site", "Most site labels exported per site; the first ones are kept." + hard, collector.DefaultLabelsPerSite, &l.LabelsPerSite},
		{"domains-per-environment", "Most domains exported per environment." + hard, collector.DefaultDomainsPerEnvironment, &l.DomainsPerEnvironment},
		{"series-per-company", "Most site series (GET /sites) per company; whole sites past it are left out." + hard, collector.DefaultSeriesPerCompany, &l.SeriesPerCompany},
		{"series-per-collector", "Most series of one background collector per company." + hard, collector.DefaultSeriesPerCollector, &l.SeriesPerCollector},
		{"activity-types", "Most operation types of the activity counters per company; further types are counted as type \"other\".", collector.DefaultActivityTypes, &l.ActivityTypes},
	} {
		namedFlag(app, "limit."+f.name, f.help, strconv.Itoa(f.def), f.dst, positiveInt)
	}
	bytesHelp := " Counted as text exposition (escapes aside): long label values times many series is what takes memory." + hard
	namedFlag(app, "limit.bytes-per-company", "Most bytes of one company's site series; whole sites past it are left out."+bytesHelp,
		units.Base2Bytes(collector.DefaultBytesPerCompany).String(), &l.BytesPerCompany, positiveSize)
	namedFlag(app, "limit.bytes-per-collector", "Most bytes of one background collector's series per company."+bytesHelp,
		units.Base2Bytes(collector.DefaultBytesPerCollector).String(), &l.BytesPerCollector, positiveSize)
}

func positiveSize(v string) (int, error) {
	n, err := units.ParseBase2Bytes(v)
	if err != nil || n <= 0 || n > math.MaxInt32 {
		return 0, errors.New("must be a positive size below 2GiB, such as 32MiB")
	}
	return int(n), nil
}

func positiveInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, errors.New("must be a positive integer")
	}
	return n, nil
}

// flagValue is a kingpin.Value whose parse errors name the flag: kingpin's own
// messages ("time: invalid duration") leave the operator guessing which one.
type flagValue[T any] struct {
	name  string
	dst   *T
	parse func(string) (T, error)
	raw   string
}

func (v *flagValue[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil {
		return fmt.Errorf("--%s=%q: %w", v.name, s, err)
	}
	*v.dst, v.raw = x, s
	return nil
}

func (v *flagValue[T]) String() string { return v.raw }

func namedFlag[T any](app *kingpin.Application, name, help, def string, dst *T, parse func(string) (T, error)) *kingpin.FlagClause {
	clause := app.Flag(name, help).Default(def)
	clause.SetValue(&flagValue[T]{name: name, dst: dst, parse: parse})
	return clause
}

// parseSecondsOrDuration takes plain seconds ("0.5", blackbox_exporter's
// spelling of --timeout-offset) as well as a Go duration ("500ms").
func parseSecondsOrDuration(v string) (time.Duration, error) {
	seconds, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return time.ParseDuration(v)
	}
	if math.IsNaN(seconds) || math.IsInf(seconds, 0) || math.Abs(seconds) > math.MaxInt64/float64(time.Second) {
		return 0, fmt.Errorf("%s seconds is out of range", v)
	}
	return time.Duration(seconds * float64(time.Second)), nil
}

// oneOf parses an enumerated string flag.
func oneOf(allowed ...string) func(string) (string, error) {
	return func(v string) (string, error) {
		if slices.Contains(allowed, v) {
			return v, nil
		}
		return "", fmt.Errorf("must be one of %s", strings.Join(allowed, ", "))
	}
}
