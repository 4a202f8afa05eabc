package httpapi

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"reclaim/tlog"
)

// IntegrityReporter is implemented by a LedgerService that audits its own store (package
// ledger's does): /readyz, /metrics and the pool views report a damaged pool.
type IntegrityReporter interface {
	// Integrity returns every pool's store audit status.
	Integrity(ctx context.Context) ([]tlog.Integrity, error)
}

func (s *Server) integrity() IntegrityReporter {
	if s.cfg.Ledger == nil {
		return nil
	}
	ir, _ := s.cfg.Ledger.(IntegrityReporter)
	return ir
}

// damagedPools returns a one-line description of each damaged pool's store.
func (s *Server) damagedPools(ctx context.Context) ([]string, error) {
	ir := s.integrity()
	if ir == nil {
		return nil, nil
	}
	all, err := ir.Integrity(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, in := range all {
		if !in.Damaged {
			continue
		}
		d := "pool " + in.Pool
		if in.Report != nil && len(in.Report.Mismatches) > 0 {
			d += fmt.Sprintf(": %d mismatches, first: %s", len(in.Report.Mismatches), in.Report.Mismatches[0])
		}
		out = append(out, d)
	}
	return out, nil
}

// poolIntegrity returns one pool's audit status for its view (nil when not audited).
func (s *Server) poolIntegrity(ctx context.Context, pool string) *tlog.Integrity {
	ir := s.integrity()
	if ir == nil {
		return nil
	}
	all, err := ir.Integrity(ctx)
	if err != nil {
		return nil
	}
	for _, in := range all {
		if in.Pool == pool {
			return &in
		}
	}
	return nil
}

// integrityCollector exports reclaim_ledger_store_damaged{pool} (1 damaged, 0 clean) and
// reclaim_ledger_audited_entries{pool} at scrape time.
type integrityCollector struct {
	ir      IntegrityReporter
	damaged *prometheus.Desc
	audited *prometheus.Desc
}

func newIntegrityCollector(ir IntegrityReporter) *integrityCollector {
	return &integrityCollector{ir: ir,
		damaged: prometheus.NewDesc("reclaim_ledger_store_damaged", "1 when the pool's stored log does not match its entries (signing stopped), else 0.", []string{"pool"}, nil),
		audited: prometheus.NewDesc("reclaim_ledger_audited_entries", "Entries the current store audit pass has recomputed.", []string{"pool"}, nil)}
}

func (c *integrityCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.damaged; ch <- c.audited }

func (c *integrityCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	all, err := c.ir.Integrity(ctx)
	if err != nil {
		return
	}
	for _, in := range all {
		v := 0.0
		if in.Damaged {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.damaged, prometheus.GaugeValue, v, in.Pool)
		ch <- prometheus.MustNewConstMetric(c.audited, prometheus.GaugeValue, float64(in.AuditedTo), in.Pool)
	}
}

func joinLines(xs []string) string { return strings.Join(xs, "\n") }
