package workout

import (
	"fmt"
	"slices"
	"time"
)

// Reason codes. The pack rules (CN-1..CN-4, US-1, US-2) are checked by both Decide and Audit,
// exactly as collection-rules.md ("The contact log and the audit") states them. The live-only
// codes need facts a contact log does not carry (DebtorState, or fields of the contact the live
// path sets), so only Decide can raise them; Audit, which passes the zero DebtorState, never does.
const (
	RuleCN1 = "CN-1" // call, SMS or visit before 08:00:00 or at/after 22:00:00 local, without consent
	RuleCN2 = "CN-2" // call to the debtor who already had 3 answered calls that local day
	RuleCN3 = "CN-3" // call to a number that already had 6 unanswered dials that local day
	RuleCN4 = "CN-4" // third-party contact while the debtor is reachable
	RuleUS1 = "US-1" // 8th call in 7 days about a debt, or a call within 7 days after a conversation
	RuleUS2 = "US-2" // call, SMS, email or visit before 08:00:00 or after 21:00:00 local, without consent

	RuleDNC          = "DNC"               // live: the debtor is on do-not-contact (both packs)
	RuleDeceased     = "DECEASED"          // live: the debtor is deceased; contact suppressed (both packs)
	RuleBankrupt     = "BANKRUPT"          // live: the debtor is bankrupt; contact suppressed (both packs)
	RuleCN4Stop      = "CN-4-STOP"         // live, cn: the third party at this number asked us to stop
	RuleUS2Window    = "US-2-INCONVENIENT" // live, us: a time/place the consumer marked inconvenient
	RuleUS3Notice    = "US-3-NOTICE"       // live, us: no validation notice 5 days after the first communication
	RuleUS4Suit      = "US-4-SUIT"         // live, us: suit or threat of suit on a time-barred debt
	RuleUS4OptOut    = "US-4-OPTOUT"       // live, us: an SMS or email without an opt-out notice
	RuleUnknownPack  = "PACK"              // the pack is neither cn nor us: every contact is refused
	validationPeriod = 5                   // US-3: days after the first communication
)

// Limits of the pack rules.
const (
	cnDayStart      = 8 * time.Hour  // CN-1 and US-2: earliest allowed local time
	cnDayEnd        = 22 * time.Hour // CN-1: 22:00:00 itself is refused
	usDayEnd        = 21 * time.Hour // US-2: 21:00:00 itself is allowed, anything after is refused
	cnAnsweredMax   = 3              // CN-2
	cnUnansweredMax = 6              // CN-3
	cnFailedRun     = 3              // CN-4
	usCallsMax      = 7              // US-1: calls in 7 consecutive days
	usDays          = 7              // US-1: the window and the bar after a conversation
	secondsPerDay   = 86400
)

// HistoryWindow is how far back, before the contact decided, Decide reads the contacts that
// share its debtor, debt or number: the 7 local days of US-1 plus the spread of UTC offsets
// (a local day can start up to 2 days before or after another offset's), rounded up.
const HistoryWindow = 10 * 24 * time.Hour

// stamp is a contact's local day (days since 1970-01-01 in its own offset) and time of day.
type stamp struct {
	day int64
	tod time.Duration
}

func stampOf(t time.Time) stamp {
	_, off := t.Zone()
	s := t.Unix() + int64(off)
	day := s / secondsPerDay
	if s%secondsPerDay < 0 {
		day--
	}
	sec := s - day*secondsPerDay
	return stamp{day: day, tod: time.Duration(sec)*time.Second + time.Duration(t.Nanosecond())}
}

// localDay returns the local day of t in its own offset, as days since 1970-01-01.
func localDay(t time.Time) int64 { return stampOf(t).day }

// facts are what the pack rules need to know about the history before a contact c. Decide
// derives them from a history slice, Audit from its running indexes; evaluate turns them into
// violations, so both apply one rule code.
type facts struct {
	answeredToday   int   // CN-2: answered calls to c's debtor (party debtor) on c's local day
	unansweredToday int   // CN-3: no_answer/busy calls to c's number on c's local day
	debtorContacts  int   // CN-4: earlier contacts with c's debtor (party debtor), capped at 3
	lastFailed      bool  // CN-4: the last min(3, debtorContacts) debtor contacts all failed
	invalidNumber   bool  // CN-4: an earlier debtor contact had outcome invalid_number
	debtCalls       int   // US-1: calls about c's debt on local days D-6..D (at least; see below)
	convDay         int64 // US-1: latest local day of a conversation about c's debt, if hasConv
	hasConv         bool  // US-1: a conversation about c's debt on a local day >= D-6
}

// Which facts a contact needs.
func needCN2(c *Contact) bool { return c.Channel == ChannelCall && c.Party == PartyDebtor }
func needCN3(c *Contact) bool { return c.Channel == ChannelCall && c.Number != "" }
func needCN4(c *Contact) bool { return c.Party == PartyThirdParty }
func needUS1(c *Contact) bool { return c.Channel == ChannelCall && c.DebtID != "" }

// Decide answers "may contact c happen now" under pack, given st and history: the earlier
// contacts (in time order, ties in the order they happened) that share c's debtor, debt or
// number; contacts that share none are ignored, so passing a longer history is harmless. The
// outcome of c is ignored. Decide applies the pack rules exactly as Audit does, plus the
// live-only rules that st (and c.OptOutMissing, c.ValidationNotice) call for. It is pure and
// deterministic and does not modify its arguments.
//
// What history must hold: every earlier contact that shares c's debtor, debt or number and is
// less than HistoryWindow before c, plus, for CN-4, the debtor's own earlier contacts (party
// debtor) of any age. Anything older or unrelated changes no decision.
//
// Cost: Decide walks back from the end of history over the last 9 local days (US) or 3 (CN),
// and, only for a third-party contact, over the debtor's earlier contacts: it is fast on
// realistic histories.
func Decide(pack Pack, st DebtorState, history []Contact, c Contact) Decision {
	s := stampOf(c.At)
	f := historyFacts(pack, history, &c, s)
	v := evaluate(pack, &st, &c, s, &f)
	return Decision{Allowed: len(v) == 0, Violations: v}
}

// historyFacts computes the facts for c from a time-ordered history slice.
func historyFacts(pack Pack, history []Contact, c *Contact, s stamp) facts {
	var f facts
	d := s.day
	switch pack {
	case PackCN:
		cn2, cn3 := needCN2(c), needCN3(c)
		if cn2 || cn3 {
			// A contact earlier in time than one on local day x is on a local day <= x+2 (offsets
			// differ by less than 48 hours), so once a contact is before day d-2 none earlier is on d.
			for i := len(history) - 1; i >= 0; i-- {
				h := &history[i]
				hd := localDay(h.At)
				if hd < d-2 {
					break
				}
				if hd != d || h.Channel != ChannelCall {
					continue
				}
				if cn2 && h.Party == PartyDebtor && h.Outcome == OutcomeAnswered && h.DebtorID == c.DebtorID {
					f.answeredToday++
				}
				if cn3 && h.Outcome.Unanswered() && h.Number == c.Number {
					f.unansweredToday++
				}
			}
		}
		if needCN4(c) {
			f.lastFailed = true
			for i := len(history) - 1; i >= 0; i-- {
				h := &history[i]
				if h.Party != PartyDebtor || h.DebtorID != c.DebtorID {
					continue
				}
				if f.debtorContacts < cnFailedRun {
					f.debtorContacts++
					f.lastFailed = f.lastFailed && h.Outcome.Failed()
				}
				if h.Outcome == OutcomeInvalidNumber {
					f.invalidNumber = true
				}
				if f.invalidNumber && f.debtorContacts == cnFailedRun {
					break
				}
			}
		}
	case PackUS:
		if needUS1(c) {
			// As above: before a contact on a day < d-8, every contact is on a day < d-6.
			for i := len(history) - 1; i >= 0; i-- {
				h := &history[i]
				hd := localDay(h.At)
				if hd < d-(usDays+1) {
					break
				}
				if hd < d-(usDays-1) || h.Channel != ChannelCall || h.DebtID != c.DebtID {
					continue
				}
				f.debtCalls++
				if h.Outcome == OutcomeAnswered && (!f.hasConv || hd > f.convDay) {
					f.convDay, f.hasConv = hd, true
				}
			}
		}
	}
	return f
}

// evaluate applies the rules of pack to contact c (at stamp s) given the facts of its history
// and the live state st. It is the one rule function behind Decide and Audit.
func evaluate(pack Pack, st *DebtorState, c *Contact, s stamp, f *facts) []Violation {
	var v []Violation
	add := func(rule, format string, args ...any) {
		v = append(v, Violation{Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	if st.DoNotContact {
		add(RuleDNC, "the debtor is on do-not-contact")
	}
	if st.Deceased {
		add(RuleDeceased, "the debtor is deceased: contact is suppressed")
	}
	if st.Bankrupt {
		add(RuleBankrupt, "the debtor is bankrupt: contact is suppressed")
	}
	late := c.Consent == ConsentLateHours
	switch pack {
	case PackCN:
		if (c.Channel == ChannelCall || c.Channel == ChannelSMS || c.Channel == ChannelVisit) && !late &&
			(s.tod < cnDayStart || s.tod >= cnDayEnd) {
			add(RuleCN1, "%s at %s local time, outside 08:00-22:00, without the debtor's consent", c.Channel, clock(s.tod))
		}
		if needCN2(c) && f.answeredToday >= cnAnsweredMax {
			add(RuleCN2, "call to the debtor on %s: already had %d answered calls that day", dayString(s.day), cnAnsweredMax)
		}
		if needCN3(c) && f.unansweredToday >= cnUnansweredMax {
			add(RuleCN3, "call to a number that already had %d unanswered calls (no_answer or busy) on %s", cnUnansweredMax, dayString(s.day))
		}
		if needCN4(c) && !f.invalidNumber && (f.debtorContacts < cnFailedRun || !f.lastFailed) {
			if f.debtorContacts < cnFailedRun {
				add(RuleCN4, "third-party %s while the debtor is reachable: no invalid number and only %d earlier debtor contact(s) (3 consecutive failed ones needed)",
					c.Channel, f.debtorContacts)
			} else {
				add(RuleCN4, "third-party %s while the debtor is reachable: no invalid number and not all of the last 3 debtor contacts failed", c.Channel)
			}
		}
		if c.Party == PartyThirdParty && c.Number != "" && slices.Contains(st.ThirdPartyStopped, c.Number) {
			add(RuleCN4Stop, "the third party at this number asked us to stop")
		}
	case PackUS:
		if needUS1(c) {
			inWindow := f.debtCalls >= usCallsMax
			afterConv := f.hasConv && s.day-f.convDay < usDays
			consent := !st.CallConsent.IsZero() && !st.CallConsent.After(c.At) && c.At.Sub(st.CallConsent) < usDays*24*time.Hour
			switch {
			case consent:
			case inWindow && afterConv:
				add(RuleUS1, "call about the debt: already %d calls from %s to %s, and within 7 days of a conversation on %s (day %d)",
					usCallsMax, dayString(s.day-(usDays-1)), dayString(s.day), dayString(f.convDay), convDayIndex(s.day, f.convDay))
			case inWindow:
				add(RuleUS1, "call about the debt: already %d calls from %s to %s", usCallsMax, dayString(s.day-(usDays-1)), dayString(s.day))
			case afterConv:
				add(RuleUS1, "call about the debt within 7 days of a conversation on %s (day %d; day 8 is the first allowed)",
					dayString(f.convDay), convDayIndex(s.day, f.convDay))
			}
		}
		if (c.Channel == ChannelCall || c.Channel == ChannelSMS || c.Channel == ChannelEmail || c.Channel == ChannelVisit) && !late &&
			(s.tod < cnDayStart || s.tod > usDayEnd) {
			add(RuleUS2, "%s at %s local time, outside 08:00-21:00, without the consumer's consent", c.Channel, clock(s.tod))
		}
		if inconvenient(st.Inconvenient, c, s) {
			add(RuleUS2Window, "%s at %s local time: a time or place the consumer marked inconvenient", c.Channel, clock(s.tod))
		}
		if !st.ValidationNoticeSent && !c.ValidationNotice && !st.FirstCommunication.IsZero() {
			// The first communication's day is the consumer's local day, read at the offset of
			// the contact decided (the consumer's): a store that keeps the instant in UTC would
			// otherwise count from the UTC date, a day off for an evening contact in New York.
			first := localDay(st.FirstCommunication.In(c.At.Location()))
			if s.day-first > validationPeriod {
				add(RuleUS3Notice, "no validation notice %d days after the first communication on %s", s.day-first, dayString(first))
			}
		}
		if st.TimeBarred && st.Purpose == PurposeSuit {
			add(RuleUS4Suit, "suit or threat of suit on a time-barred debt")
		}
		if (c.Channel == ChannelSMS || c.Channel == ChannelEmail) && c.OptOutMissing {
			add(RuleUS4OptOut, "%s without an opt-out notice", c.Channel)
		}
	default:
		add(RuleUnknownPack, "unknown rule pack %s: every contact is refused", quote(string(pack)))
	}
	return v
}

// convDayIndex is the day number of day after a conversation on conv (the conversation's day is
// day 1); a contact whose own offset puts it on an earlier local day than the conversation still
// counts as day 1.
func convDayIndex(day, conv int64) int64 { return max(day-conv+1, 1) }

// inconvenient reports whether c falls in one of the windows.
func inconvenient(ws []Window, c *Contact, s stamp) bool {
	if len(ws) == 0 {
		return false
	}
	wd := time.Weekday((s.day + 4) % 7) // 1970-01-01 was a Thursday
	if wd < 0 {
		wd += 7
	}
	for i := range ws {
		w := &ws[i]
		if len(w.Channels) == 0 {
			if c.Channel == ChannelLetter {
				continue
			}
		} else if !slices.Contains(w.Channels, c.Channel) {
			continue
		}
		if w.Number != "" && w.Number != c.Number {
			continue
		}
		if len(w.Days) > 0 && !slices.Contains(w.Days, wd) {
			continue
		}
		switch {
		case w.Start == w.End:
			return true
		case w.Start < w.End:
			if s.tod >= w.Start && s.tod < w.End {
				return true
			}
		default:
			if s.tod >= w.Start || s.tod < w.End {
				return true
			}
		}
	}
	return false
}

func dayString(day int64) string { return time.Unix(day*secondsPerDay, 0).UTC().Format("2006-01-02") }

func clock(tod time.Duration) string {
	t := time.Unix(0, int64(tod)).UTC()
	if t.Nanosecond() != 0 {
		return t.Format("15:04:05.999999999")
	}
	return t.Format("15:04:05")
}
