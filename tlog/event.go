package tlog

import (
	"encoding/json"
	"strconv"
)

// EntryEventType is the live-event type of a sequenced ledger entry on the topic ledger.<pool>.
const EntryEventType = "entry"

// MaxEventData bounds the JSON of an entry event: an entry whose event would be larger (quotes
// in the entry are escaped) is announced without its bytes, and the stream reads it from the
// database. It leaves room for the event's envelope within the broker's limit (events.MaxData,
// 7,000 bytes) and PostgreSQL's NOTIFY payload (8,000 bytes).
const MaxEventData = 6500

// EntryEvent is the data of a live "entry" event: the entry's index, event id, type and exact
// bytes (omitted when the event would exceed MaxEventData).
type EntryEvent struct {
	Index   int64  `json:"index"`
	EventID string `json:"event_id"`
	Type    string `json:"type"`
	Entry   string `json:"entry,omitempty"`
}

// NewEntryEvent describes the entry at index for a live event.
func NewEntryEvent(index int64, entry []byte) EntryEvent {
	var h struct {
		EventID string `json:"event_id"`
		Type    string `json:"type"`
	}
	_ = json.Unmarshal(entry, &h) // a sequenced entry always parses; an odd one is still announced
	e := EntryEvent{Index: index, EventID: h.EventID, Type: h.Type, Entry: string(entry)}
	if b, err := json.Marshal(e); err != nil || len(b) > MaxEventData {
		e.Entry = ""
		if len(e.EventID) > 256 || len(e.Type) > 256 { // not a well-formed entry: say no more than its index
			e.EventID, e.Type = "", ""
		}
	}
	return e
}

// Cursor is the SSE event id of the entry at index on a ledger stream: the number of entries a
// client has seen once it has it. A client resuming with Last-Event-ID n is sent entries from
// index n on.
func Cursor(index int64) string { return strconv.FormatInt(index+1, 10) }
