package collector

import (
	"context"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// BackupsSource is what the backups collector needs; *kinsta.Client has it.
type BackupsSource interface {
	Backups(ctx context.Context, envID string) ([]kinsta.Backup, error)
}

var (
	backupLastFamily = newGaugeFamily("kinsta_environment_backup_last_timestamp_seconds",
		"Unix time of the environment's newest backup of this type (GET /sites/environments/{env_id}/backups created_at, cached by the backups collector).",
		[]string{"company", "site_id", "environment_id", "type"}...)
	backupCountFamily = newGaugeFamily("kinsta_environment_backups",
		"Number of backups of this type the environment has (GET /sites/environments/{env_id}/backups, cached by the backups collector).",
		[]string{"company", "site_id", "environment_id", "type"}...)
)

type backupsCollector struct{ src BackupsSource }

func newBackupsCollector(api API) itemCollector {
	return backupsCollector{api}
}

func (backupsCollector) scope(bool) scope { return scopeEnvironment }

func (c backupsCollector) refresh(ctx context.Context, req *request) (result, error) {
	backups, err := c.src.Backups(ctx, req.envID)
	if err != nil {
		return result{}, err
	}
	type agg struct {
		n      int
		newest time.Time
	}
	byType := map[string]*agg{}
	var types []string
	for _, b := range backups {
		t := orUnknown(b.Type)
		a := byType[t]
		if a == nil {
			a = &agg{}
			byType[t] = a
			types = append(types, t)
		}
		a.n++
		if b.CreatedAt.After(a.newest) {
			a.newest = b.CreatedAt
		}
	}
	var m series
	for _, t := range types {
		a := byType[t]
		m.gauge(backupCountFamily, float64(a.n), req.company, req.siteID, req.envID, t)
		if !a.newest.IsZero() {
			m.gauge(backupLastFamily, unixSeconds(a.newest), req.company, req.siteID, req.envID, t)
		}
	}
	return result{series: m}, nil
}
