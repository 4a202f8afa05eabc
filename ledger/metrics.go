package ledger

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"reclaim/sqldb"
)

// metrics are the ledger's Prometheus series (served on /metrics by reclaim serve).
type metrics struct {
	isLeader  prometheus.Gauge
	epoch     prometheus.Gauge
	changes   prometheus.Counter
	fenced    prometheus.Counter
	sequenced prometheus.Counter
	seqErrors prometheus.Counter
	lag       prometheus.Histogram
	announced prometheus.Counter
	signed    prometheus.Counter
	retries   *txRetries
}

// LagBuckets are the commit-to-sequenced histogram's buckets, in seconds.
var LagBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

func newMetrics(db *sqldb.DB) *metrics {
	return &metrics{
		isLeader: prometheus.NewGauge(prometheus.GaugeOpts{Name: "reclaim_ledger_is_leader", Help: "1 while this node holds the ledger lease (sequences, announces and signs)."}),
		epoch:    prometheus.NewGauge(prometheus.GaugeOpts{Name: "reclaim_ledger_leader_epoch", Help: "Epoch of the ledger lease this node last acquired."}),
		changes:  prometheus.NewCounter(prometheus.CounterOpts{Name: "reclaim_ledger_leader_changes_total", Help: "Times this node became or stopped being the ledger leader."}),
		fenced: prometheus.NewCounter(prometheus.CounterOpts{Name: "reclaim_ledger_fenced_total",
			Help: "Ledger transactions refused because this node's lease was no longer valid."}),
		sequenced: prometheus.NewCounter(prometheus.CounterOpts{Name: "reclaim_ledger_sequenced_entries_total", Help: "Entries this node sequenced."}),
		seqErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "reclaim_ledger_sequence_errors_total", Help: "Sequencing batches that failed (retried next round)."}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "reclaim_ledger_commit_to_sequenced_seconds",
			Help: "Time from an entry's business transaction to the commit of the batch that sequenced it.", Buckets: LagBuckets}),
		announced: prometheus.NewCounter(prometheus.CounterOpts{Name: "reclaim_ledger_announced_entries_total", Help: "Entries this node announced as live events."}),
		signed:    prometheus.NewCounter(prometheus.CounterOpts{Name: "reclaim_ledger_checkpoints_signed_total", Help: "Checkpoint signatures this node made."}),
		retries:   &txRetries{db: db, desc: prometheus.NewDesc("reclaim_db_tx_retries_total", "Database transactions re-run after a transient conflict, by reason (serialization = SQLSTATE 40001, deadlock = 40P01, busy = SQLite busy, gave_up = still failing after the last retry).", []string{"reason"}, nil)},
	}
}

// Collectors returns the ledger's metrics for a Prometheus registry.
func (s *Service) Collectors() []prometheus.Collector {
	m := s.m
	return []prometheus.Collector{m.isLeader, m.epoch, m.changes, m.fenced, m.sequenced, m.seqErrors, m.lag, m.announced, m.signed, m.retries}
}

func (s *Service) observeBatch(b sqldb.Batch) {
	s.m.sequenced.Add(float64(b.To - b.From))
	done := time.Now()
	for _, q := range b.Queued {
		s.m.lag.Observe(max(0, done.Sub(q).Seconds()))
	}
}

// txRetries exposes sqldb's retry counters.
type txRetries struct {
	db   *sqldb.DB
	desc *prometheus.Desc
}

func (t *txRetries) Describe(ch chan<- *prometheus.Desc) { ch <- t.desc }

func (t *txRetries) Collect(ch chan<- prometheus.Metric) {
	st := t.db.TxStats()
	for _, r := range []struct {
		reason string
		n      uint64
	}{{"serialization", st.Serialization}, {"deadlock", st.Deadlock}, {"busy", st.Busy}, {"gave_up", st.GaveUp}} {
		ch <- prometheus.MustNewConstMetric(t.desc, prometheus.CounterValue, float64(r.n), r.reason)
	}
}
