package collector

import (
	"context"

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

func newDiskCollector(api API) itemCollector {
	return diskCollector{api}
}

func (diskCollector) scope(bool) scope { return scopeEnvironment }

func (c diskCollector) refresh(ctx context.Context, req *request) (result, error) {
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
