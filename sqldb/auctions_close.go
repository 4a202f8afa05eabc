package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"reclaim"
	"reclaim/auction"
	"reclaim/date"
	"reclaim/ingest"
	"reclaim/market"
	"reclaim/money"
	"reclaim/textnorm"
	"reclaim/tlog/verify"
)

// The close, payment, default and settlement of marketplace auctions, and the record of court
// auctions held elsewhere (docs/marketplace.md).

// CloseDue closes every open marketplace auction whose end has passed (on this node's clock),
// once: the status changes by UPDATE ... WHERE status = 'open' AND last_seq = <the events the
// engine judged>, so several nodes running CloseDue close each auction exactly once. Losers'
// deposits are released; a sale is awarded (the winner's deposit stays frozen until settlement
// or default). It returns how many auctions this call closed.
func (m *Market) CloseDue(ctx context.Context) (int, error) {
	rows, err := m.db.r.QueryContext(ctx, m.db.rebind(`SELECT id FROM market_auctions WHERE status = ? AND external = ? AND end_at <= ? ORDER BY end_at`),
		market.StatusOpen, false, m.db.instant(m.clock()))
	if err != nil {
		return 0, dbError(err, "finding auctions to close")
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, dbError(err, "finding auctions to close")
		}
		ids = append(ids, id)
	}
	rows.Close()
	n := 0
	var errs []error
	for _, id := range ids {
		ok, err := m.closeOne(ctx, id)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			n++
		}
	}
	return n, errors.Join(errs...)
}

func (m *Market) closeOne(ctx context.Context, id int64) (bool, error) {
	la, err := m.load(ctx, id)
	if err != nil {
		return false, err
	}
	la.mu.Lock()
	defer la.mu.Unlock()
	// With the auction locked no event is judged; wait for those already judged to be written
	// (the batcher needs no lock), so that bids arriving after the end cannot starve the close.
	for until := time.Now().Add(10 * time.Second); la.inflight.Load() > 0 && !la.broken.Load(); {
		if time.Now().After(until) || ctx.Err() != nil {
			return false, nil // the next round closes it
		}
		time.Sleep(200 * time.Microsecond)
	}
	if la.broken.Load() {
		return false, nil
	}
	now := m.clock()
	if now.Before(la.last) {
		now = la.last
	}
	if now.Before(la.a.ClosesAt()) {
		return false, nil // extended by an event this node judged
	}
	out, err := la.a.Close(now)
	if err != nil {
		return false, err
	}
	o := market.Outcome{Status: string(out.Status), End: out.End.UTC(), Price: out.Price, Reason: out.Reason, Relist: out.Relist, SellOff: out.SellOff}
	winner := orgOfEngineName(out.Winner)
	if out.Status == auction.Sold {
		o.WinnerOrg, o.WinnerCode = winner, la.a.Code(out.Winner)
		if org, err := m.Org(ctx, winner); err == nil {
			o.WinnerName = org.Name
		}
	}
	body, _ := json.Marshal(o)
	deposited := la.a.State().Deposited
	seq := la.committed.Load()
	closed := false
	err = m.db.WriteTx(ctx, func(tx *Tx) error {
		closed = false
		res, err := tx.Exec(ctx, `UPDATE market_auctions SET status = ?, outcome = ?, closed_at = ?, end_at = ? WHERE id = ? AND status = ? AND last_seq = ?`,
			string(out.Status), string(body), m.db.instant(now), m.db.instant(o.End), id, market.StatusOpen, seq)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // closed by another node, or it judged more events: reload
		}
		closed = true
		for _, b := range deposited {
			org := orgOfEngineName(b)
			if org == 0 || (out.Status == auction.Sold && org == winner) {
				continue
			}
			f, err := frozenFor(ctx, tx, org, id)
			if err != nil {
				return err
			}
			if f > 0 {
				if err := addMovement(ctx, tx, m.db, org, id, market.MoveRelease, f, now, "system", "auction closed: deposit released"); err != nil {
					return err
				}
			}
		}
		if out.Status == auction.Sold {
			_, err := tx.Exec(ctx, `INSERT INTO market_settlements (auction_id, winner_org, price_minor, status, awarded_at) VALUES (?, ?, ?, ?, ?)`,
				id, winner, out.Price.Minor(), market.SettleAwarded, m.db.instant(now))
			return err
		}
		return nil
	})
	if err != nil || !closed {
		m.drop(la)
		return false, dbError(err, "closing an auction")
	}
	if m.notifying() {
		if a, err := m.Auction(ctx, id); err == nil {
			m.announce([]Note{{AuctionID: id, Type: "closed", Data: a}})
		}
	}
	return true, nil
}

// drop forgets this node's engine of an auction (the next use reloads it).
func (m *Market) drop(la *liveAuction) {
	la.broken.Store(true)
	m.mu.Lock()
	if m.live[la.id] == la {
		delete(m.live, la.id)
	}
	m.mu.Unlock()
}

// settlement reads an auction's settlement (ENOTFOUND before an award).
func (m *Market) settlement(ctx context.Context, q func(ctx context.Context, query string, args ...any) *sql.Row, id int64) (market.Settlement, error) {
	var s market.Settlement
	var price int64
	var paid, settled time.Time
	err := q(ctx, `SELECT s.auction_id, s.winner_org, o.name, s.price_minor, s.status, s.awarded_at, s.paid_at, s.settled_at, s.bids, s.history_hash,
		s.ledger_pool, s.ledger_event, s.agreement, s.notification FROM market_settlements s JOIN market_orgs o ON o.id = s.winner_org WHERE s.auction_id = ?`, id).
		Scan(&s.AuctionID, &s.WinnerOrg, &s.WinnerName, &price, &s.Status, instantScan{&s.AwardedAt}, instantScan{&paid}, instantScan{&settled},
			&s.Bids, &s.HistoryHash, &s.LedgerPool, &s.LedgerEvent, &s.Agreement, &s.Notification)
	if err == sql.ErrNoRows {
		return s, reclaim.Errorf(reclaim.ENOTFOUND, "auction %d has no award", id)
	}
	s.Price = money.New(price, money.CNY)
	if !paid.IsZero() {
		s.PaidAt = &paid
	}
	if !settled.IsZero() {
		s.SettledAt = &settled
	}
	return s, err
}

// Settlement returns an auction's settlement (ENOTFOUND before an award).
func (m *Market) Settlement(ctx context.Context, id int64) (market.Settlement, error) {
	s, err := m.settlement(ctx, func(ctx context.Context, q string, args ...any) *sql.Row {
		return m.db.r.QueryRowContext(ctx, m.db.rebind(q), args...)
	}, id)
	return s, dbError(err, "reading a settlement")
}

// ConfirmPayment records that the winner paid (the engine's payment event, JA-8).
func (m *Market) ConfirmPayment(ctx context.Context, id int64) (market.Settlement, error) {
	s, err := m.Settlement(ctx, id)
	if err != nil {
		return s, err
	}
	if s.Status != market.SettleAwarded {
		return s, marketErr(reclaim.ECONFLICT, "", "auction %d's settlement is %s, not awarded", id, s.Status)
	}
	at := m.clock()
	rc, err := m.submit(ctx, id, auction.Event{Type: auction.Payment, Bidder: engineName(s.WinnerOrg)}, func(r auction.Result) func(context.Context, *Tx) error {
		if !r.Accepted {
			return nil
		}
		return func(ctx context.Context, tx *Tx) error {
			_, err := tx.Exec(ctx, `UPDATE market_settlements SET status = ?, paid_at = ? WHERE auction_id = ? AND status = ?`, market.SettlePaid, m.db.instant(at), id, market.SettleAwarded)
			return err
		}
	})
	if err != nil {
		return s, err
	}
	if !rc.Accepted {
		return s, marketErr(reclaim.ECONFLICT, rc.Rule, "payment refused: %s", rc.Reason)
	}
	return m.Settlement(ctx, id)
}

// Default records that the winner did not pay (JA-8): the engine's default event, the winner's
// deposit forfeited, the organisation barred, the auction marked defaulted (re-list it with
// previous_id; the defaulter is barred from the re-auction).
func (m *Market) Default(ctx context.Context, id int64, reason string) (market.Settlement, error) {
	defer m.forget()
	s, err := m.Settlement(ctx, id)
	if err != nil {
		return s, err
	}
	if s.Status != market.SettleAwarded {
		return s, marketErr(reclaim.ECONFLICT, "", "auction %d's settlement is %s, not awarded", id, s.Status)
	}
	reason = textnorm.Trim(reason)
	if reason == "" {
		reason = "did not pay"
	}
	at := m.clock()
	actor := reclaim.Actor(ctx)
	rc, err := m.submit(ctx, id, auction.Event{Type: auction.Default, Bidder: engineName(s.WinnerOrg)}, func(r auction.Result) func(context.Context, *Tx) error {
		if !r.Accepted {
			return nil
		}
		return func(ctx context.Context, tx *Tx) error {
			f, err := frozenFor(ctx, tx, s.WinnerOrg, id)
			if err != nil {
				return err
			}
			if f > 0 {
				if err := addMovement(ctx, tx, m.db, s.WinnerOrg, id, market.MoveForfeit, f, at, actor, "JA-8: winner defaulted"); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE market_orgs SET barred = ?, barred_reason = ? WHERE id = ?`, true,
				truncate(fmt.Sprintf("defaulted on auction %d (JA-8): %s", id, reason), 500), s.WinnerOrg); err != nil {
				return err
			}
			if err := bumpMarketEpoch(ctx, tx); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE market_settlements SET status = ? WHERE auction_id = ?`, market.SettleDefaulted, id); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE market_auctions SET status = ? WHERE id = ?`, market.StatusDefaulted, id)
			return err
		}
	})
	if err != nil {
		return s, err
	}
	if !rc.Accepted {
		return s, marketErr(reclaim.ECONFLICT, rc.Rule, "default refused: %s", rc.Reason)
	}
	return m.Settlement(ctx, id)
}

// History returns an auction's accepted bids in order (codes; names too once bidding ended)
// and verify.BidHistoryHash over them: the published history an investor checks against the
// auction.result entry.
func (m *Market) History(ctx context.Context, id int64) ([]market.HistoryBid, string, error) {
	la, err := m.load(ctx, id)
	if err != nil {
		return nil, "", err
	}
	recs, _, err := m.storedEvents(ctx, func(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
		return m.db.r.QueryContext(ctx, m.db.rebind(q), args...)
	}, id, 0)
	if err != nil {
		return nil, "", dbError(err, "reading an auction's history")
	}
	la.mu.Lock()
	closed := la.a.Closed()
	codes := map[string]string{}
	for _, r := range recs {
		codes[r.Event.Bidder] = la.a.Code(r.Event.Bidder)
	}
	la.mu.Unlock()
	out := []market.HistoryBid{}
	var vb []verify.HistoryBid
	for _, r := range recs {
		if !r.Result.Accepted || (r.Event.Type != auction.Bid && r.Event.Type != auction.Quote && r.Event.Type != auction.Accept) {
			continue
		}
		h := market.HistoryBid{N: int64(len(out) + 1), At: r.At, Code: codes[r.Event.Bidder], Amount: r.Event.Amount}
		if closed {
			if o, err := m.Org(ctx, orgOfEngineName(r.Event.Bidder)); err == nil {
				h.Name = o.Name
			}
		} else if r.Event.Type == auction.Quote || la.spec.Spec.Format == string(auction.Sealed) {
			continue // hidden until the close
		}
		out = append(out, h)
		vb = append(vb, verify.HistoryBid{At: r.At, Bidder: h.Code, Amount: verify.Amount(r.Event.Amount.Minor())})
	}
	hash, err := verify.BidHistoryHash(vb)
	if err != nil {
		return nil, "", reclaim.WrapError(reclaim.EINTERNAL, err, "auction %d: history not encodable", id)
	}
	return out, hash, nil
}

// Result returns a closed auction's public result: the outcome with names, the accepted-bid
// history with its hash, and the settlement so far.
func (m *Market) Result(ctx context.Context, id int64) (market.Result, error) {
	bi, err := m.Visible(ctx, id)
	if err != nil {
		return market.Result{}, err
	}
	a, err := m.Auction(ctx, id)
	if err != nil {
		return market.Result{}, err
	}
	if a.Status == market.StatusOpen {
		return market.Result{}, reclaim.Errorf(reclaim.ECONFLICT, "auction %d is still open", id)
	}
	bids, hash, err := m.History(ctx, id)
	if err != nil {
		return market.Result{}, err
	}
	r := market.Result{Auction: a, Bids: bids, HistoryHash: hash}
	if s, err := m.Settlement(ctx, id); err == nil {
		if u := reclaim.UserFrom(ctx); u == nil || u.Role == reclaim.RoleBidder {
			if bi.org.ID == 0 || bi.org.ID != s.WinnerOrg {
				s = s.Public() // the documents are the buyer's (and the staff's)
			}
		}
		r.Settlement = &s
	}
	return r, nil
}

// Settle completes a paid sale, in one transaction: the winner's deposit is applied to the
// price, every loan sold is recorded as disposed of (it leaves servicing), the transfer agreement
// and the debtor-notification list are generated, and, where the loans are in a pool, the
// auction.result entry (bid count, bid-history hash) and a loan.removed (sold) entry per loan go
// to the pool's ledger, dated effective.
func (m *Market) Settle(ctx context.Context, id int64, effective date.Date) (market.Settlement, error) {
	if effective.IsZero() {
		effective = date.FromTime(m.clock())
	}
	s, err := m.Settlement(ctx, id)
	if err != nil {
		return s, err
	}
	if s.Status != market.SettlePaid {
		return s, marketErr(reclaim.ECONFLICT, "", "auction %d's settlement is %s: only a paid sale settles", id, s.Status)
	}
	a, err := m.Auction(ctx, id)
	if err != nil {
		return s, err
	}
	_, hash, err := m.History(ctx, id)
	if err != nil {
		return s, err
	}
	bids, _, _ := m.History(ctx, id)
	nbids := int64(len(bids))
	now := m.clock()
	actor := reclaim.Actor(ctx)
	err = m.db.WriteTx(ctx, func(tx *Tx) error {
		var status string
		q := `SELECT status FROM market_settlements WHERE auction_id = ?`
		if tx.Dialect() == Postgres {
			q += ` FOR UPDATE`
		}
		if err := tx.QueryRow(ctx, q, id).Scan(&status); err != nil {
			return err
		}
		if status != market.SettlePaid {
			return marketErr(reclaim.ECONFLICT, "", "auction %d's settlement is %s", id, status)
		}
		f, err := frozenFor(ctx, tx, s.WinnerOrg, id)
		if err != nil {
			return err
		}
		if f > 0 {
			if err := addMovement(ctx, tx, m.db, s.WinnerOrg, id, market.MoveApply, f, now, actor, "deposit applied to the price"); err != nil {
				return err
			}
		}
		var loans []string
		var pool, event string
		var notice strings.Builder
		notice.WriteString("loan_id,borrower_ref,total_claim,new_creditor,auction,effective\n")
		if a.PortfolioID > 0 {
			if loans, err = auctionLoans(ctx, tx, id, a.PortfolioID); err != nil {
				return err
			}
			for _, l := range loans {
				var bref string
				var claim int64
				if err := tx.QueryRow(ctx, `SELECT borrower_ref, COALESCE(total_claim_minor, 0) FROM loans WHERE portfolio_id = ? AND loan_ref = ?`,
					a.PortfolioID, l).Scan(&bref, &claim); err != nil {
					return reclaim.WrapError(reclaim.EINTERNAL, err, "loan %s of portfolio %d", l, a.PortfolioID)
				}
				fmt.Fprintf(&notice, "%s,%s,%s,%s,%d,%s\n", csvCell(l), csvCell(bref), money.New(claim, money.CNY), csvCell(s.WinnerName), id, effective)
				if _, err := tx.Exec(ctx, `INSERT INTO market_dispositions (portfolio_id, loan_id, auction_id, buyer_org, at) VALUES (?, ?, ?, ?, ?)`,
					a.PortfolioID, l, id, s.WinnerOrg, m.db.instant(now)); err != nil {
					if isUniqueViolation(err) {
						return reclaim.Errorf(reclaim.ECONFLICT, "loan %s of portfolio %d was already sold", l, a.PortfolioID)
					}
					return err
				}
			}
			// Loans in a pool: the result and the removals go to the pool's ledger, now.
			err := tx.QueryRow(ctx, `SELECT pool FROM ledger_pools WHERE portfolio_id = ? AND frozen_at IS NULL ORDER BY pool LIMIT 1`, a.PortfolioID).Scan(&pool)
			if err != nil && err != sql.ErrNoRows {
				return err
			}
			if pool != "" {
				refs, err := poolRefs(ctx, tx, pool, loans)
				if err != nil {
					return err
				}
				if len(refs) > 0 {
					event = newID("auc-", 8)
					salt := newSalt()
					sale := AuctionSale{Pool: pool, Auction: fmt.Sprintf("auction-%d", id), Lot: truncate(a.Title, 200), LoanRefs: refs, Price: s.Price,
						Winner: engineName(s.WinnerOrg), Effective: effective, Bids: nbids, BidHistory: hash}
					entry, err := verify.AuctionResult{Header: hdr(pool, event, effective), Auction: sale.Auction, Lot: sale.Lot, Loans: int64(len(refs)),
						Price: verify.Amount(s.Price.Minor()), Winner: verify.Commit(salt, verify.TagBidder, []byte(sale.Winner)),
						Bids: nbids, BidHistory: hash}.Encode()
					if err != nil {
						return entryErr(err)
					}
					if err := checkOpenPeriod(ctx, tx, pool, effective); err != nil {
						return err
					}
					if err := m.db.recordAuctionResultTx(ctx, tx, sale, event, salt, entry); err != nil {
						return err
					}
				} else {
					pool = ""
				}
			}
		}
		agreement := transferAgreement(a, s, len(loans), nbids, hash, effective)
		if _, err := tx.Exec(ctx, `UPDATE market_settlements SET status = ?, settled_at = ?, bids = ?, history_hash = ?, ledger_pool = ?, ledger_event = ?,
			agreement = ?, notification = ? WHERE auction_id = ?`, market.SettleSettled, m.db.instant(now), nbids, hash, pool, event, agreement, notice.String(), id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE market_auctions SET status = ? WHERE id = ?`, market.StatusSettled, id)
		return err
	})
	if err != nil {
		return s, dbError(err, "settling an auction")
	}
	return m.Settlement(ctx, id)
}

func csvCell(s string) string {
	if strings.ContainsAny(s, ",\"\n\r") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

// auctionLoans returns the loan ids an auction sells: its selection, or every loan of its
// portfolio.
func auctionLoans(ctx context.Context, tx *Tx, id, portfolioID int64) ([]string, error) {
	var raw string
	if err := tx.QueryRow(ctx, `SELECT loans FROM market_auctions WHERE id = ?`, id).Scan(&raw); err != nil {
		return nil, err
	}
	var keys []string
	_ = json.Unmarshal([]byte(raw), &keys)
	if len(keys) > 0 {
		return keys, nil
	}
	rows, err := tx.Query(ctx, `SELECT loan_ref FROM loans WHERE portfolio_id = ? ORDER BY id`, portfolioID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// poolRefs maps loan ids to the pool's references of the loans still in it.
func poolRefs(ctx context.Context, tx *Tx, pool string, keys []string) ([]string, error) {
	var refs []string
	for _, k := range keys {
		var ref, status string
		err := tx.QueryRow(ctx, `SELECT loan_ref, status FROM pool_loans WHERE pool = ? AND loan_key = ?`, pool, k).Scan(&ref, &status)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return nil, err
		}
		if status == verify.RemovalRemoved || status == verify.RemovalRepurchased || status == verify.RemovalSold {
			continue
		}
		refs = append(refs, ref)
	}
	return refs, nil
}

func transferAgreement(a market.Auction, s market.Settlement, loans int, bids int64, hash string, eff date.Date) string {
	var b strings.Builder
	fmt.Fprintf(&b, "TRANSFER AGREEMENT / 转让协议\n\n")
	fmt.Fprintf(&b, "Auction: %d (%s), %s pack, %s format\n", a.ID, a.Title, a.Pack, a.Format)
	fmt.Fprintf(&b, "Asset: %s", a.Kind)
	if a.PortfolioID > 0 {
		fmt.Fprintf(&b, ", portfolio %d, %d loans", a.PortfolioID, loans)
	}
	fmt.Fprintf(&b, "\nTransferor: the AMC\nTransferee: %s (organisation %d)\n", s.WinnerName, s.WinnerOrg)
	fmt.Fprintf(&b, "Price: CNY %s, paid in full\nEffective date: %s\n", s.Price, eff)
	fmt.Fprintf(&b, "Accepted bids: %d; bid-history SHA-256 (reclaim-bid-history/v1): %s\n", bids, hash)
	if a.Kind == string(auction.NPLPackage) {
		b.WriteString("\nThe transferee undertakes not to resell this personal-NPL package and not to engage collectors with a record of violations.\n")
		b.WriteString("Debtors are notified of the assignment from the attached notification list.\n")
	}
	return b.String()
}

// ---- court auctions held elsewhere -----------------------------------------------------------

// RecordOutside records the result of a court auction held on an outside platform (an
// external listing): sold at a price, or failed, with the JA-9 re-listing bounds. A sale with
// a loan books the proceeds to the loan: a collection on channel court when the loan is in a
// pool (PostCollection, its ledger entry included), else the record only.
func (m *Market) RecordOutside(ctx context.Context, id int64, o market.Outside) (market.Auction, error) {
	a, err := m.Auction(ctx, id)
	if err != nil {
		return a, err
	}
	if !a.External {
		return a, reclaim.Errorf(reclaim.EINVALID, "auction %d runs here: its result comes from its bids", id)
	}
	if a.Status != market.StatusOpen {
		return a, reclaim.Errorf(reclaim.ECONFLICT, "auction %d is already %s", id, a.Status)
	}
	la, err := m.load(ctx, id)
	if err != nil {
		return a, err
	}
	at := o.At.UTC()
	if at.IsZero() {
		at = a.End
	}
	out := market.Outcome{End: at}
	switch o.Status {
	case "failed":
		la.mu.Lock()
		eo, err := la.a.Close(maxTime(at, la.a.End()))
		la.mu.Unlock()
		if err != nil {
			return a, err
		}
		out.Status, out.Relist, out.SellOff, out.Reason = market.StatusFailed, eo.Relist, eo.SellOff, "no bid on "+a.Platform
	case "sold":
		if o.Price.IsAbsent() || o.Price.Currency() != money.CNY || o.Price.Sign() <= 0 || o.Price.Cmp(auction.MaxAmount) > 0 {
			return a, &reclaim.Error{Code: reclaim.EINVALID, Message: "a sale needs its positive CNY price", Fields: map[string]string{"price": "out of range"}}
		}
		if o.Price.Cmp(a.StartPrice) < 0 {
			return a, marketErr(reclaim.EINVALID, packCode(a.Pack, auction.RuleBidding), "price %s is below the starting price %s", o.Price, a.StartPrice)
		}
		out.Status, out.Price, out.WinnerName = market.StatusSold, o.Price, textnorm.Trim(o.Buyer)
	default:
		return a, &reclaim.Error{Code: reclaim.EINVALID, Message: "status is sold or failed", Fields: map[string]string{"status": "unknown"}}
	}
	// Proceeds go to the loan up to its balance (a surplus belongs to the debtor, not the pool);
	// the loan is looked up first, so that a wrong loan or pool records nothing.
	var book money.Amount
	if out.Status == market.StatusSold && o.LoanKey != "" && o.Pool != "" {
		var bal int64
		err := m.db.readRow(ctx, `SELECT balance_minor FROM pool_loans WHERE pool = ? AND (loan_ref = ? OR loan_key = ?)`, o.Pool, o.LoanKey, o.LoanKey).Scan(&bal)
		if err == sql.ErrNoRows {
			return a, reclaim.Errorf(reclaim.ENOTFOUND, "loan %q is not in pool %q", o.LoanKey, o.Pool)
		} else if err != nil {
			return a, dbError(err, "reading the loan")
		}
		book = money.New(min(bal, o.Price.Minor()), money.CNY)
	}
	body, _ := json.Marshal(out)
	err = m.db.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE market_auctions SET status = ?, outcome = ?, closed_at = ? WHERE id = ? AND status = ?`,
			out.Status, string(body), m.db.instant(m.clock()), id, market.StatusOpen)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reclaim.Errorf(reclaim.ECONFLICT, "auction %d was recorded meanwhile", id)
		}
		return nil
	})
	if err != nil {
		return a, dbError(err, "recording a court auction")
	}
	m.drop(la)
	if book.Sign() > 0 {
		txn := o.TxnID
		if txn == "" {
			txn = fmt.Sprintf("court-auction-%d", id)
		}
		if _, err := m.db.PostCollection(ctx, Collection{Pool: o.Pool, LoanRef: o.LoanKey, Amount: book, Channel: verify.ChannelCourt, TxnID: txn,
			Effective: date.FromTime(at), PostedBy: reclaim.Actor(ctx)}); err != nil {
			return a, reclaim.WrapError(reclaim.ErrorCode(err), err, "auction %d recorded, but the proceeds were not booked: %v", id, err)
		}
	}
	return m.Auction(ctx, id)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// FullTape gives the buyer the full tape of a paid NPL package: the caller's organisation must
// be the winner and the sale paid or settled. The download is logged (kind "full", its
// watermark) and every borrower's personal data is read through the audited path
// (ReadPersonalData: one pii_access_log row per borrower, actor the caller, purpose naming the
// auction, the organisation and the watermark), in one transaction, before fn sees a row. fn is
// called for each loan sold, in loan order, with its borrower's personal data (empty when none
// is stored). The Market's Keys decrypt (EUNAVAILABLE without them).
func (m *Market) FullTape(ctx context.Context, auctionID int64, watermark string, fn func(l *reclaim.Loan, pd reclaim.PersonalData) error) error {
	if m.keys == nil {
		return reclaim.Errorf(reclaim.EUNAVAILABLE, "this server holds no personal-data key")
	}
	bi, err := m.registered(ctx, auctionID, "full_tape")
	if err != nil {
		return err
	}
	s, err := m.Settlement(ctx, auctionID)
	if err != nil || s.WinnerOrg != bi.org.ID || (s.Status != market.SettlePaid && s.Status != market.SettleSettled) {
		e := marketErr(reclaim.EFORBIDDEN, "full_tape", "the full tape of auction %d goes only to its buyer, after payment", auctionID)
		m.recordAttempt(ctx, auctionID, bi.org.ID, "full_tape", e.Message)
		return e
	}
	a, err := m.Auction(ctx, auctionID)
	if err != nil {
		return err
	}
	if a.PortfolioID == 0 {
		return reclaim.Errorf(reclaim.EINVALID, "auction %d sells no loans: it has no tape", auctionID)
	}
	p, err := m.db.GetPortfolio(ctx, a.PortfolioID)
	if err != nil {
		return err
	}
	var keys []string
	if err := m.db.ReadTx(ctx, func(tx *Tx) error {
		var err error
		keys, err = auctionLoans(ctx, tx, auctionID, a.PortfolioID)
		return err
	}); err != nil {
		return dbError(err, "reading the loans sold")
	}
	sold := make(map[string]bool, len(keys))
	for _, k := range keys {
		sold[k] = true
	}
	var loans []*reclaim.Loan
	refs := map[string]bool{}
	var refList []string
	if err := m.db.StreamLoans(ctx, a.PortfolioID, func(l *reclaim.Loan) error {
		if sold[l.LoanID] {
			c := *l
			loans = append(loans, &c)
			if !refs[l.BorrowerID] {
				refs[l.BorrowerID] = true
				refList = append(refList, l.BorrowerID)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := m.db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO market_downloads (watermark, auction_id, org_id, actor, kind, loans, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			watermark, auctionID, bi.org.ID, reclaim.Actor(ctx), "full", len(loans), m.db.instant(m.clock()))
		return err
	}); err != nil {
		return dbError(err, "logging a tape download")
	}
	purpose := fmt.Sprintf("full tape of auction %d to its buyer %s (download %s)", auctionID, bi.org.Name, watermark)
	pds, err := m.db.ReadPersonalData(ctx, Access{Actor: reclaim.Actor(ctx), Purpose: purpose}, a.PortfolioID, refList,
		func(sealed []byte, _ string, ref string) (reclaim.PersonalData, error) {
			return m.keys.OpenPersonal(sealed, ingest.PersonalAAD(p.ContentHash, ref))
		})
	if err != nil {
		return err
	}
	for _, l := range loans {
		if err := fn(l, pds[l.BorrowerID]); err != nil {
			return err
		}
	}
	return nil
}

// roundKeyPrefix starts the idempotency key of the tick that closes a sealed round; keys
// starting with it (or with the deposit's "deposit:") are the marketplace's, never a bidder's.
const roundKeyPrefix = "round-close:"

// TickRounds closes the sealed rounds of multi-round auctions whose deadline passed with no
// event since (the engine closes a round when the next event arrives): for each such auction
// this node holds, it stores a tick, which publishes the round's best quote and is announced on
// auction.<id> like any event, so rooms follow the rounds live. The tick's idempotency key names
// the round: nodes racing to close the same round store one tick. It returns the ticks stored.
// The closer calls it with CloseDue.
func (m *Market) TickRounds(ctx context.Context) (int, error) {
	now := m.clock()
	m.mu.Lock()
	all := make([]*liveAuction, 0, len(m.live))
	for _, la := range m.live {
		all = append(all, la)
	}
	m.mu.Unlock()
	n := 0
	var errs []error
	for _, la := range all {
		la.mu.Lock()
		due := !la.broken.Load() && la.a.RoundDue(now)
		round := la.a.Round()
		la.mu.Unlock()
		if !due {
			continue
		}
		rc, err := m.submit(ctx, la.id, auction.Event{Type: auction.Tick, Key: fmt.Sprintf("%s%d", roundKeyPrefix, round+1)}, nil)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !rc.Repeat {
			n++
		}
	}
	return n, errors.Join(errs...)
}
