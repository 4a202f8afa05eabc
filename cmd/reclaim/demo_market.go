package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"reclaim"
	"reclaim/auth"
	"reclaim/market"
	"reclaim/money"
	"reclaim/sqldb"
)

// The demo marketplace's fixed names: a second run finds them and reuses what exists.
const (
	demoBidder2       = "demo-bidder2"
	demoLiveTitle     = "示范挂牌：个人消费贷不良资产包（英式竞价）"
	demoFinishedTitle = "示范拍卖：抵债工程车辆一台（已成交）"
	demoCollatTitle   = "示范拍卖：上海市某区住宅一套（抵债资产）"
)

var demoOrgs = []struct {
	name, licence, user string
}{
	{"华东示范资产管理有限公司", "amc_local", "demo-bidder"},
	{"华南示范资产管理有限公司", "amc_national", demoBidder2},
	{demoPendingOrg, "consumer_finance", ""}, // registered, awaiting an administrator's decision
}

// demoPendingOrg is an organisation the demo leaves pending, for the bidder-approval page.
const demoPendingOrg = "华北示范消费金融有限公司"

// demoMarket fills the marketplace for the console (docs/marketplace-console.md): two approved
// bidder organisations with credited deposit accounts, demo-bidder and demo-bidder2 acting for
// them, and a third one pending approval; a live English auction of an NPL package (the
// marketplace pack, an hour of bidding from now) both registered for with deposits frozen and
// opening bids; a finished judicial auction of a movable with its bid history (an extension
// chain), closed, sold and paid; and a judicial real-estate listing in its notice period. A
// second run reuses everything; when the live auction has ended meanwhile, a new one opens (the
// old one stays as a result).
func demoMarket(ctx context.Context, g *globals, a *app, ps []reclaim.Portfolio) error {
	admin, err := a.db.UserByUsername(ctx, "demo-admin")
	if err != nil {
		return err
	}
	bidders := map[string]reclaim.User{}
	for _, o := range demoOrgs {
		if o.user == "" {
			continue
		}
		u, err := demoMarketUser(ctx, g, a, o.user)
		if err != nil {
			return err
		}
		bidders[o.user] = u
	}
	// A clock the demo moves (the finished auction's bids happened in the past); time.Now
	// otherwise.
	var mu sync.Mutex
	var fake time.Time
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		if fake.IsZero() {
			return time.Now()
		}
		return fake
	}
	setClock := func(t time.Time) { mu.Lock(); fake = t; mu.Unlock() }
	m := a.db.NewMarket(sqldb.MarketOptions{Now: clock, CloseEvery: -1})
	defer m.Close()
	actx := reclaim.WithUser(ctx, &admin)
	as := func(user string) context.Context { u := bidders[user]; return reclaim.WithUser(ctx, &u) }

	// Organisations: registered, approved, credited, linked.
	orgs, err := m.Orgs(actx)
	if err != nil {
		return err
	}
	byName := map[string]market.Org{}
	for _, o := range orgs {
		byName[o.Name] = o
	}
	for _, d := range demoOrgs {
		o, ok := byName[d.name]
		if !ok {
			if o, err = m.RegisterOrg(actx, market.OrgSpec{Name: d.name, LicenceType: d.licence, Documents: []string{"营业执照（示范）", "金融许可证（示范）"}}); err != nil {
				return err
			}
			if d.user == "" {
				continue
			}
			if o, err = m.DecideOrg(actx, o.ID, true, ""); err != nil {
				return err
			}
			if _, err := m.CreditDeposit(actx, o.ID, money.New(500_000_000, money.CNY), "示范保证金入账"); err != nil {
				return err
			}
		}
		if d.user == "" {
			continue
		}
		if err := m.LinkUser(actx, o.ID, bidders[d.user].ID); err != nil && reclaim.ErrorCode(err) != reclaim.ECONFLICT {
			return err
		}
	}
	all, err := m.Auctions(actx, 0)
	if err != nil {
		return err
	}
	find := func(title string, open bool) (market.Auction, bool) {
		for _, x := range all {
			if x.Title == title && (!open || x.Status == market.StatusOpen && time.Now().Before(x.End)) {
				return x, true
			}
		}
		return market.Auction{}, false
	}
	yuan := func(y int64) money.Amount { return money.New(y*100, money.CNY) }
	join := func(id int64) error {
		for _, d := range demoOrgs[:2] {
			bctx := as(d.user)
			if err := m.Register(bctx, id); err != nil {
				return err
			}
			if err := m.AcceptNDA(bctx, id); err != nil {
				return err
			}
			if _, err := m.FreezeDeposit(bctx, id); err != nil {
				return err
			}
		}
		return nil
	}
	bid := func(user string, id int64, amount money.Amount, key string) error {
		rc, err := m.PlaceBid(as(user), id, market.BidRequest{Amount: amount, Key: key})
		if err == nil && !rc.Accepted && !rc.Repeat {
			err = fmt.Errorf("demo bid %s refused: %s %s", key, rc.Rule, rc.Reason)
		}
		return err
	}
	now := time.Now().UTC().Truncate(time.Second)

	// The finished auction: a judicial sale of a movable two days ago, with an extension chain.
	if _, ok := find(demoFinishedTitle, false); !ok {
		end := now.Add(-48 * time.Hour)
		setClock(end.Add(-20 * 24 * time.Hour))
		x, err := m.CreateAuction(actx, market.ListingSpec{Title: demoFinishedTitle, Description: "被执行人名下工程车辆一台，法院委托网络司法拍卖（示范数据）。",
			Pack: "judicial", Format: "english", Kind: "movable", Appraisal: yuan(500_000), StartPrice: yuan(350_000), Increment: yuan(5_000),
			Deposit: yuan(35_000), Reserve: yuan(350_000), NoticeAt: end.Add(-20 * 24 * time.Hour), Start: end.Add(-24 * time.Hour), End: end})
		if err != nil {
			return err
		}
		setClock(end.Add(-23 * time.Hour))
		if err := join(x.ID); err != nil {
			return err
		}
		steps := []struct {
			at     time.Duration
			user   string
			amount int64
		}{
			{-20 * time.Hour, "demo-bidder", 350_000}, {-6 * time.Hour, demoBidder2, 360_000}, {-3 * time.Minute, "demo-bidder", 370_000},
			{time.Minute, demoBidder2, 380_000}, {5 * time.Minute, "demo-bidder", 385_000}, {9 * time.Minute, demoBidder2, 395_000},
		}
		for i, s := range steps {
			setClock(end.Add(s.at))
			if err := bid(s.user, x.ID, yuan(s.amount), fmt.Sprintf("demo-finished-%d", i)); err != nil {
				return err
			}
		}
		setClock(time.Time{})
		if _, err := m.CloseDue(actx); err != nil {
			return err
		}
		if _, err := m.ConfirmPayment(actx, x.ID); err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "Demo marketplace: auction %d (finished, sold after two extensions)\n", x.ID)
	}
	setClock(time.Time{})
	// Close whatever ended since an earlier run (an old live auction).
	if _, err := m.CloseDue(actx); err != nil {
		return err
	}

	// The live auction: an NPL package under the marketplace pack, an hour of bidding from now.
	if x, ok := find(demoLiveTitle, true); ok {
		fmt.Fprintf(g.stdout, "Demo marketplace: live auction %d ends %s\n", x.ID, x.End.Local().Format(time.DateTime))
	} else if len(ps) > 0 {
		p := ps[len(ps)-1]
		start := now.Add(-5 * time.Minute)
		sp := yuan(max(100_000, p.TotalClaim.Minor()/100/20/10_000*10_000)) // about 5% of the claim, whole 万元
		inc := yuan(max(5_000, sp.Minor()/100/100/1_000*1_000))
		x, err := m.CreateAuction(actx, market.ListingSpec{Title: demoLiveTitle,
			Description: fmt.Sprintf("%s 转让的个人不良贷款资产包（%d 户），公开竞价；竞买人须先登记、签署保密协议并冻结保证金（示范数据）。", p.SellerName, p.LoanCount),
			Pack:        "marketplace", Format: "english", Kind: "npl_package", PortfolioID: p.ID, StartPrice: sp, Increment: inc,
			Deposit: money.New(sp.Minor()/20, money.CNY), NoticeAt: start.Add(-25 * time.Hour), Start: start, End: start.Add(65 * time.Minute)})
		if err != nil {
			return err
		}
		if err := join(x.ID); err != nil {
			return err
		}
		if err := bid("demo-bidder", x.ID, sp, fmt.Sprintf("demo-live-%d-1", x.ID)); err != nil {
			return err
		}
		if err := bid(demoBidder2, x.ID, money.New(sp.Minor()+inc.Minor(), money.CNY), fmt.Sprintf("demo-live-%d-2", x.ID)); err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "Demo marketplace: live auction %d ends %s\n", x.ID, x.End.Local().Format(time.DateTime))
	}

	// A collateral listing in its notice period (30 days for real estate under JA-3).
	if _, ok := find(demoCollatTitle, false); !ok {
		start := now.Add(31 * 24 * time.Hour).Truncate(time.Hour)
		x, err := m.CreateAuction(actx, market.ListingSpec{Title: demoCollatTitle, Description: "抵债取得的住宅一套，建筑面积 89 平方米，评估价 320 万元（示范数据）。",
			Pack: "judicial", Format: "english", Kind: "real_estate", Appraisal: yuan(3_200_000), StartPrice: yuan(2_240_000), Increment: yuan(20_000),
			Deposit: yuan(224_000), Reserve: yuan(2_240_000), NoticeAt: now, Start: start, End: start.Add(24 * time.Hour)})
		if err != nil {
			return err
		}
		fmt.Fprintf(g.stdout, "Demo marketplace: collateral listing %d starts %s\n", x.ID, x.Start.Local().Format(time.DateTime))
	}
	return nil
}

// demoMarketUser returns the bidder account name, creating demo-bidder2 (a second bidder, which
// the role loop of demoAccounts does not make) with its password kept in
// demo-market-accounts.txt and added to demo-accounts.txt.
func demoMarketUser(ctx context.Context, g *globals, a *app, name string) (reclaim.User, error) {
	u, err := a.db.UserByUsername(ctx, name)
	if name != demoBidder2 {
		return u, err
	}
	own := filepath.Join(g.dataDir, "demo-market-accounts.txt")
	pw := ""
	if b, err := os.ReadFile(own); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if n, p, ok := strings.Cut(line, " "); ok && n == name {
				pw = p
			}
		}
	}
	switch {
	case reclaim.ErrorCode(err) == reclaim.ENOTFOUND:
		pw = auth.GeneratePassword(14, name)
		h, err := auth.Hash(pw)
		if err != nil {
			return u, err
		}
		if u, err = a.db.CreateUser(reclaim.WithActor(ctx, "demo"), reclaim.User{Username: name, DisplayName: "Demo bidder 2", Role: reclaim.RoleBidder, PasswordHash: h}); err != nil {
			return u, err
		}
		if err := os.WriteFile(own, []byte(name+" "+pw+"\n"), 0o600); err != nil {
			return u, err
		}
	case err != nil:
		return u, err
	case pw == "":
		pw = "(set before; see reclaim user)"
	}
	all := filepath.Join(g.dataDir, "demo-accounts.txt")
	b, _ := os.ReadFile(all)
	if !strings.Contains("\n"+string(b), "\n"+name+" ") {
		f, err := os.OpenFile(all, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return u, err
		}
		_, err = fmt.Fprintf(f, "%s %s\n", name, pw)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return u, err
		}
	}
	fmt.Fprintf(g.stdout, "Demo marketplace bidder: %s %s\n", name, pw)
	return u, nil
}
