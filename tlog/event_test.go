package tlog

import (
	"encoding/json"
	"strings"
	"testing"
)

// An entry event always fits the broker and NOTIFY limits: a large entry (or one whose quotes
// double when escaped) is announced without its bytes.
func TestEntryEventSize(t *testing.T) {
	small := []byte(`{"v":1,"pool":"P","event_id":"col-1","type":"loan.collection","effective":"2026-01-01"}`)
	if e := NewEntryEvent(7, small); e.Entry != string(small) || e.EventID != "col-1" || e.Type != "loan.collection" || e.Index != 7 {
		t.Fatalf("small entry: %+v", e)
	}
	quoted := []byte(`{"v":1,"event_id":"e","type":"t","x":"` + strings.Repeat(`\"`, 2000) + `"}`) // 4,000 bytes, about 8,000 escaped
	e := NewEntryEvent(1, quoted)
	if e.Entry != "" || e.EventID != "e" {
		t.Fatalf("a quote-heavy 4 KB entry was carried: %d bytes", len(e.Entry))
	}
	if Cursor(41) != "42" {
		t.Fatal(Cursor(41))
	}
}

func FuzzNewEntryEvent(f *testing.F) {
	f.Add([]byte(`{"v":1,"pool":"P","event_id":"col-1","type":"loan.collection"}`))
	f.Add([]byte(`not json`))
	f.Add([]byte(`{"event_id":"` + strings.Repeat("x", 7000) + `"}`))
	f.Fuzz(func(t *testing.T, entry []byte) {
		e := NewEntryEvent(3, entry)
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > MaxEventData+600 {
			t.Fatalf("event data of %d bytes", len(b))
		}
		if e.Entry != "" && e.Entry != string(entry) {
			t.Fatal("entry altered")
		}
	})
}
