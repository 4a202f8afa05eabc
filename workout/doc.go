// Package workout holds the rules of working out purchased loans: the cost basis of an
// acquisition, which case a boarded loan joins, the limitation period, statutory court fees, the
// notice of assignment, the vocabulary of case actions, the compliance engine that decides every
// contact (Decide, Audit; docs/compliance.md), and payment matching and allocation. It is pure: no database, no network, no clock (callers pass
// now / asOf). Storage is sqldb/workout.go; the HTTP API is httpapi/workout.go. See
// docs/workout.md and ../shared/design/collection-rules.md.
package workout
