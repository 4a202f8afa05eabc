package service

import (
	"strings"

	"reclaim/workout"
)

// InterimPolicy is the stand-in contact policy used until the compliance engine
// (workout.Decide, h-compliance) is wired in its place in cmd/reclaim/workout.go. It applies
// only the daytime windows: CN-1 (no call, SMS or visit before 08:00 or at/after 22:00 at the
// debtor's offset without late_hours consent) and, for the us pack, US-2 (no call, SMS, email or
// visit before 08:00 or after 21:00). It is deliberately narrower than the engine: it never
// allows what the engine would deny on these rules.
func InterimPolicy(pack workout.Pack, st workout.DebtorState, history []workout.Contact, c workout.Contact) workout.Decision {
	h, m, s := c.At.Clock()
	secs := h*3600 + m*60 + s
	d := workout.Decision{Allowed: true}
	if c.Consent == "late_hours" {
		return d
	}
	switch pack {
	case "us":
		if (c.Channel == "call" || c.Channel == "sms" || c.Channel == "email" || c.Channel == "visit") && (secs < 8*3600 || secs > 21*3600) {
			d.Allowed = false
			d.Violations = append(d.Violations, workout.Violation{Rule: "US-2", Message: "no communication before 08:00 or after 21:00 at the consumer's location"})
		}
	default:
		if (c.Channel == "call" || c.Channel == "sms" || c.Channel == "visit") && (secs < 8*3600 || secs >= 22*3600) {
			d.Allowed = false
			d.Violations = append(d.Violations, workout.Violation{Rule: "CN-1", Message: "no collection between 22:00 and 08:00 (debtor's local time) without consent"})
		}
	}
	return d
}

// inconvenientWindow turns a stored inconvenient-time record ("HH:MM-HH:MM", validated by
// AddConsent) into the engine's Window. It is the one place that builds a Window: if the
// compliance engine's Window type differs from the stand-in's, only this function changes.
func inconvenientWindow(value string) workout.Window {
	from, to, _ := strings.Cut(value, "-")
	return workout.Window{From: from, To: to}
}
