package collector

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// DiskSource is what the disk collector needs; *kinsta.Client has it.
type DiskSource interface {
	DiskUsage(ctx context.Context, companyID, envID string) (kinsta.DiskUsage, error)
}

var envDiskFamily = newGaugeFamily("kinsta_environment_disk_usage_bytes",
	"Disk space the environment uses, in bytes: the latest daily point of GET /sites/environments/{env_id}/analytics/diskspace (cached by the disk collector); absent while Kinsta has no data for the environment.",
	[]string{"company", "site_id", "environment_id"}...)

type diskCollector struct{ src DiskSource }

func newDiskCollector(src SitesSource) (itemCollector, error) {
	s, ok := src.(DiskSource)
	if !ok {
		return nil, errors.New("the API source has no DiskUsage method")
	}
	return diskCollector{s}, nil
}

func (diskCollector) scope(bool) scope { return scopeEnvironment }

func (diskCollector) descs() []*prometheus.Desc { return []*prometheus.Desc{envDiskFamily.desc} }

func (c diskCollector) refresh(ctx context.Context, req *request) (result, error) {
	if err := req.pace(ctx); err != nil {
		return result{}, err
	}
	u, err := c.src.DiskUsage(ctx, req.company, req.envID)
	if err != nil {
		return result{}, err
	}
	var m series
	if u.Bytes != 0 || !u.At.IsZero() {
		m.gauge(envDiskFamily, u.Bytes, req.company, req.siteID, req.envID)
	}
	return result{series: m}, nil
}
