package collector

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Companies returns the ids of the companies the exporter serves: the
// configured ones or, with none configured, the API key's company once GET
// /validate has named it.
func (e *Exporter) Companies() []string { return e.companyIDs() }

// CollectStateSeries sends the StateSeries of several exporters that share
// one exposition (one exporter per API key or per company), as if they were
// one exporter. The series of every company pass through; the refresh queue
// series, which only carry a collector label, are merged: their items and
// due items summed, the oldest due time the earliest of all.
func CollectStateSeries(exporters []*Exporter, ch chan<- prometheus.Metric) {
	if len(exporters) == 1 {
		exporters[0].StateSeries().Collect(ch)
		return
	}
	type queueKey struct {
		desc      *prometheus.Desc
		collector string
	}
	merged := map[queueKey]float64{}
	var order []queueKey
	in := make(chan prometheus.Metric, 64)
	go func() {
		for _, e := range exporters {
			e.StateSeries().Collect(in)
		}
		close(in)
	}()
	for m := range in {
		d := m.Desc()
		if d != queueItemsDesc && d != queueDueDesc && d != queueOldestDesc {
			ch <- m
			continue
		}
		var pb dto.Metric
		if err := m.Write(&pb); err != nil || len(pb.GetLabel()) != 1 {
			ch <- m // not the shape this function knows: better a clash than a loss
			continue
		}
		k := queueKey{d, pb.GetLabel()[0].GetValue()}
		v := pb.GetGauge().GetValue()
		old, seen := merged[k]
		switch {
		case !seen:
			order = append(order, k)
		case d == queueOldestDesc:
			v = math.Min(old, v)
		default:
			v += old
		}
		merged[k] = v
	}
	for _, k := range order {
		ch <- prometheus.MustNewConstMetric(k.desc, prometheus.GaugeValue, merged[k], k.collector)
	}
}
