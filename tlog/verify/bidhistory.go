package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// BidHistoryVersion is the first line of the canonical bid-history encoding.
const BidHistoryVersion = "reclaim-bid-history/v1"

// HistoryBid is one accepted bid of an auction's published history: its receipt time (UTC), the
// bidder's code while bidding ran (1 to 32 characters of [A-Za-z0-9]; names never enter the
// history) and the amount in minor units.
type HistoryBid struct {
	At     time.Time
	Bidder string
	Amount Amount
}

// EncodeBidHistory returns the canonical encoding of an auction's accepted-bid history, in the
// order the bids were accepted:
//
//	reclaim-bid-history/v1\n
//	<n> <at> <bidder> <amount>\n      (one line per bid, n = 1, 2, ...)
//
// where at is the receipt time in UTC with exactly six fractional digits
// (2026-02-01T03:00:00.000000Z; finer digits are truncated, as the store keeps microseconds),
// bidder the code and amount the integer minor units (as in entries: "70000000" for 700,000.00
// yuan). Fields are separated by one space and every line, the last included, ends in "\n".
// A bid that cannot be encoded (a bad code, a negative amount) is an error naming its position.
func EncodeBidHistory(bids []HistoryBid) ([]byte, error) {
	b := make([]byte, 0, len(BidHistoryVersion)+1+len(bids)*56)
	b = append(b, BidHistoryVersion...)
	b = append(b, '\n')
	for i, h := range bids {
		if h.Bidder == "" || len(h.Bidder) > 32 {
			return nil, fmt.Errorf("bid %d: bidder code must be 1 to 32 characters", i+1)
		}
		for j := 0; j < len(h.Bidder); j++ {
			c := h.Bidder[j]
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
				return nil, fmt.Errorf("bid %d: bidder code %q has a character outside [A-Za-z0-9]", i+1, h.Bidder)
			}
		}
		if h.Amount < 0 {
			return nil, fmt.Errorf("bid %d: negative amount", i+1)
		}
		if h.At.IsZero() {
			return nil, fmt.Errorf("bid %d: no receipt time", i+1)
		}
		b = strconv.AppendInt(b, int64(i+1), 10)
		b = append(b, ' ')
		b = h.At.UTC().Truncate(time.Microsecond).AppendFormat(b, "2006-01-02T15:04:05.000000Z")
		b = append(b, ' ')
		b = append(b, h.Bidder...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(h.Amount), 10)
		b = append(b, '\n')
	}
	return b, nil
}

// BidHistoryHash returns the SHA-256, in lower-case hex, of EncodeBidHistory(bids): the value
// of an auction.result entry's bid_history.
func BidHistoryHash(bids []HistoryBid) (string, error) {
	b, err := EncodeBidHistory(bids)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// CheckBidHistory reports whether a published bid history is the one an auction.result entry
// commits to: the same number of bids and the same hash. The error says which differs.
func CheckBidHistory(e AuctionResult, bids []HistoryBid) error {
	if int64(len(bids)) != e.Bids {
		return fmt.Errorf("the history has %d bids; the ledger entry %s says %d", len(bids), e.EventID, e.Bids)
	}
	h, err := BidHistoryHash(bids)
	if err != nil {
		return err
	}
	if h != e.BidHistory {
		return fmt.Errorf("the history hashes to %s; the ledger entry %s commits to %s", h, e.EventID, e.BidHistory)
	}
	return nil
}
