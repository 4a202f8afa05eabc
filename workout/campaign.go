package workout

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"reclaim"
)

// Bulk campaigns (issue 12 item 3: "every contact path ... bulk campaigns ... asks it first"):
// one message (SMS, letter, email) from a template to a selection of cases, each contact put to
// the compliance policy at the moment it is sent, against the debtor's real history (console,
// API, agency and campaign contacts alike). The rules of a campaign are here; the service sends
// it in batches and sqldb stores it (docs/workout-api.md, "Campaigns").

// Campaign statuses.
const (
	CampaignScheduled = "scheduled" // waiting for its time
	CampaignRunning   = "running"   // being sent (a runner holds its lease)
	CampaignDone      = "done"      // every selected case decided
)

// CampaignChannels are the channels a campaign may use: messages, not calls or visits (those
// are worked one case at a time).
var CampaignChannels = []string{KindSMS, KindLetter, KindEmail}

// RuleCampaignCap is the reason code of a contact refused by the campaign's own per-debtor
// daily cap (a business limit on top of the rule pack).
const RuleCampaignCap = "CAMPAIGN-CAP"

// Campaign outcomes recorded on attempts and actions: an allowed contact is handed to the
// sender ("sent"); a denied one is not sent.
const (
	CampaignSent    = "sent"
	CampaignNotSent = "not_sent"
)

// MaxCampaignCaseIDs bounds an explicit case list; larger campaigns select by filter.
const MaxCampaignCaseIDs = 10000

// CampaignSelection chooses the cases of a campaign: the explicit case ids, or every open case
// that matches all the filters given (All selects every open case and must be said).
type CampaignSelection struct {
	CaseIDs     []int64 `json:"case_ids,omitempty"`
	PortfolioID int64   `json:"portfolio_id,omitempty"`
	Assignee    string  `json:"assignee,omitempty"`
	Agency      string  `json:"agency,omitempty"`
	All         bool    `json:"all,omitempty"`
}

// CampaignSpec is a campaign as asked for. Key makes the request idempotent: the same creator
// sending the same key again gets the campaign made the first time.
type CampaignSpec struct {
	Key         string            `json:"key"`
	Name        string            `json:"name"`
	Channel     string            `json:"channel"`
	Template    string            `json:"template"`
	Selection   CampaignSelection `json:"selection"`
	MaxPerDay   int               `json:"max_per_day,omitempty"`
	ScheduledAt time.Time         `json:"scheduled_at"`
}

// Campaign is a stored campaign with its progress and result.
type Campaign struct {
	ID          int64             `json:"id"`
	Name        string            `json:"name"`
	Channel     string            `json:"channel"`
	Template    string            `json:"template"`
	Selection   CampaignSelection `json:"selection"`
	MaxPerDay   int               `json:"max_per_day"`
	ScheduledAt time.Time         `json:"scheduled_at"`
	Status      string            `json:"status"`
	Total       int64             `json:"total"`  // cases selected (known once sending starts)
	Done        int64             `json:"done"`   // cases decided so far
	Sent        int64             `json:"sent"`   // allowed and handed to the sender
	Denied      int64             `json:"denied"` // refused, with their rule ids in ByRule
	ByRule      map[string]int64  `json:"by_rule"`
	CreatedBy   string            `json:"created_by"`
	CreatedAt   time.Time         `json:"created_at"`
	StartedAt   time.Time         `json:"started_at,omitzero"`
	FinishedAt  time.Time         `json:"finished_at,omitzero"`
	Cursor      int64             `json:"-"` // the last case id decided
}

var templateID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func campaignInvalid(field, value, rule, format string, args ...any) error {
	return &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf(format, args...),
		Fields: map[string]string{"field": field, "value": value, "rule": rule}}
}

// ValidateCampaign checks a campaign request, naming the first bad field. The explicit case ids
// are sorted and de-duplicated in place.
func ValidateCampaign(s *CampaignSpec) error {
	s.Key, s.Name, s.Template = strings.TrimSpace(s.Key), strings.TrimSpace(s.Name), strings.TrimSpace(s.Template)
	switch {
	case s.Key == "" || len(s.Key) > 100:
		return campaignInvalid("key", s.Key, "required", "key (the idempotency key) is required, at most 100 characters")
	case s.Name == "" || len([]rune(s.Name)) > 200:
		return campaignInvalid("name", s.Name, "required", "name is required, at most 200 characters")
	case !slices.Contains(CampaignChannels, s.Channel):
		return campaignInvalid("channel", s.Channel, "channel", "channel %q is not one of %s", s.Channel, strings.Join(CampaignChannels, ", "))
	case !templateID.MatchString(s.Template):
		return campaignInvalid("template", s.Template, "template", "template must be a template id: letters, digits, . _ -, at most 64")
	case s.MaxPerDay < 0 || s.MaxPerDay > 100:
		return campaignInvalid("max_per_day", fmt.Sprint(s.MaxPerDay), "range", "max_per_day must be 0 (no cap) to 100")
	case s.ScheduledAt.IsZero():
		return campaignInvalid("scheduled_at", "", "required", "scheduled_at is required (RFC 3339)")
	}
	sel := &s.Selection
	if len(sel.CaseIDs) > MaxCampaignCaseIDs {
		return campaignInvalid("selection.case_ids", fmt.Sprint(len(sel.CaseIDs)), "max", "at most %d explicit case ids; select larger campaigns by portfolio, assignee or agency", MaxCampaignCaseIDs)
	}
	for _, id := range sel.CaseIDs {
		if id <= 0 {
			return campaignInvalid("selection.case_ids", fmt.Sprint(id), "positive", "case id %d is not a case id", id)
		}
	}
	slices.Sort(sel.CaseIDs)
	sel.CaseIDs = slices.Compact(sel.CaseIDs)
	filtered := sel.PortfolioID != 0 || sel.Assignee != "" || sel.Agency != ""
	switch {
	case sel.PortfolioID < 0:
		return campaignInvalid("selection.portfolio_id", fmt.Sprint(sel.PortfolioID), "positive", "portfolio_id must be positive")
	case len(sel.CaseIDs) > 0 && (filtered || sel.All):
		return campaignInvalid("selection", "", "one_of", "give either case_ids or filters (portfolio_id, assignee, agency, all), not both")
	case len(sel.CaseIDs) == 0 && !filtered && !sel.All:
		return campaignInvalid("selection", "", "required", "select cases: case_ids, a filter (portfolio_id, assignee, agency), or all: true for every open case")
	}
	return nil
}

// Hash is the fingerprint of a validated request: a retried request with the same key must
// carry the same hash (else it is a different request reusing a key: a conflict).
func (s CampaignSpec) Hash() string {
	b, _ := json.Marshal(struct {
		CampaignSpec
		At string `json:"at"`
	}{s, s.ScheduledAt.UTC().Format(time.RFC3339Nano)})
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// CampaignCap is the campaign's per-debtor daily cap: with max > 0, a contact on channel ch is
// refused when the debtor already had max contacts on that channel on c's local day, counting
// every contact that happened in history (console, API, agency and campaigns alike). history
// holds the debtor's contacts in time order. It returns nil when the contact is within the cap.
func CampaignCap(max int, history []Contact, c Contact) *Violation {
	if max <= 0 {
		return nil
	}
	day := localDay(c.At)
	n := 0
	for i := len(history) - 1; i >= 0; i-- {
		h := &history[i]
		hd := localDay(h.At)
		if hd < day-2 {
			break
		}
		if hd == day && h.Channel == c.Channel && h.DebtorID == c.DebtorID && h.Party == PartyDebtor {
			n++
		}
	}
	if n < max {
		return nil
	}
	return &Violation{Rule: RuleCampaignCap, Message: fmt.Sprintf("the debtor already had %d %s contact(s) on %s (campaign cap %d a day)",
		n, c.Channel, dayString(day), max)}
}
