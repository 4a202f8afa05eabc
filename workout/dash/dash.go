// Package dash holds the shapes of performance against the price paid and of the manager's
// dashboard (issue 13 items 3 and 5; docs/performance.md), shared by the workout service that
// builds them and the HTTP API that serves them. The rules are in package valuation
// (PerformanceOf, VintagePerformance) and package workout (Collections, ArmLift, CountLimitation).
package dash

import (
	"reclaim/date"
	"reclaim/valuation"
	"reclaim/workout"
)

// PerformanceReport is performance against the price paid as of a date: per portfolio, per
// vintage (acquisition month) and, for one portfolio, per origination year.
type PerformanceReport struct {
	AsOf        date.Date               `json:"as_of"`
	Portfolios  []valuation.Performance `json:"portfolios"`
	Vintages    []valuation.Performance `json:"vintages"`
	Origination []valuation.Performance `json:"origination,omitempty"`
}

// Dashboard is the manager's dashboard over the debtor-local days [From, To].
type Dashboard struct {
	From        date.Date                    `json:"from"`
	To          date.Date                    `json:"to"`
	Collections workout.CollectionsBreakdown `json:"collections"`
	// Denials are the compliance denials in the window by rule and by day (pre-dial checks
	// excluded; agency reports count their flags).
	Denials    DenialSummary            `json:"denials"`
	Arms       workout.ArmReport        `json:"arms"`
	Experiment string                   `json:"experiment,omitempty"`
	Limitation workout.LimitationCounts `json:"limitation"`
	// Vintages is performance against the price paid by acquisition month, as of To.
	Vintages []valuation.Performance `json:"vintages"`
}

// DenialSummary counts contact attempts and denials.
type DenialSummary struct {
	Attempts int          `json:"attempts"`
	Denied   int          `json:"denied"`
	ByRule   []KeyCount   `json:"by_rule"`
	ByDay    []DayDenials `json:"by_day"`
}

// KeyCount is a count by key.
type KeyCount struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// DayDenials is one local day's attempts and denials.
type DayDenials struct {
	Day      string `json:"day"`
	Attempts int    `json:"attempts"`
	Denied   int    `json:"denied"`
}
