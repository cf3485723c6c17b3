package collector

import "github.com/kinsta-exporter/kinsta_exporter/kinsta"

// API is everything the collectors need of the Kinsta API, declared where it
// is consumed: each collector's file declares the methods it calls
// (BackupsSource, ...), and adding a collector adds its interface here.
// *kinsta.Client satisfies it, checked at compile time below; tests pass
// fakes.
type API interface {
	SitesSource
	BackupsSource
	PluginsSource
	ThemesSource
	UsageSource
	DiskSource
	ActivitySource
	ResponsesSource
	APIKeysSource
}

var _ API = (*kinsta.Client)(nil)
