package workout

import (
	"fmt"
	"html"
	"strings"

	"reclaim/date"
	"reclaim/money"
)

// NoticeLoan is one loan named in a notice of assignment.
type NoticeLoan struct {
	LoanRef string
	Claim   money.Amount
}

// NoticeData is what a notice of assignment (债权转让通知, Civil Code art. 546; CN-7) says. It holds
// only masked personal data: the notice record is stored and shown in lists; the addressed copy
// is produced at delivery from the sealed data under an audited read.
type NoticeData struct {
	CaseRef      string
	MaskedName   string // e.g. 张*
	Seller       string // the assignor
	Buyer        string // the assignee (the AMC)
	AwardDate    date.Date
	PortfolioRef string
	Loans        []NoticeLoan
}

// NoticeKindAssignment is the kind of a notice of assignment.
const NoticeKindAssignment = "assignment"

// RenderNotice renders the notice as plain text and as an HTML fragment (escaped). The output is
// deterministic for the same data (golden-tested).
func RenderNotice(n NoticeData) (text, htmlBody string) {
	var t strings.Builder
	name := n.MaskedName
	if name == "" {
		name = "债务人"
	}
	fmt.Fprintf(&t, "债权转让通知书 (Notice of assignment)\n案件编号 Case: %s\n\n", n.CaseRef)
	fmt.Fprintf(&t, "%s：\n", name)
	fmt.Fprintf(&t, "%s已于%s将其对您享有的下列债权及相关权利转让给%s（资产包 %s）。根据《中华人民共和国民法典》第五百四十六条，自本通知到达之日起，请向%s履行还款义务。\n",
		n.Seller, n.AwardDate, n.Buyer, n.PortfolioRef, n.Buyer)
	fmt.Fprintf(&t, "%s assigned the following claims against you to %s on %s (package %s). Under art. 546 of the Civil Code, from receipt of this notice please pay %s.\n\n",
		n.Seller, n.Buyer, n.AwardDate, n.PortfolioRef, n.Buyer)
	for _, l := range n.Loans {
		fmt.Fprintf(&t, "  %s  %s %s\n", l.LoanRef, l.Claim.Currency(), l.Claim)
	}
	var h strings.Builder
	e := html.EscapeString
	fmt.Fprintf(&h, "<article class=\"notice\"><h1>债权转让通知书 <small>Notice of assignment</small></h1><p>案件编号 Case: %s</p>", e(n.CaseRef))
	fmt.Fprintf(&h, "<p>%s：</p><p>%s已于%s将其对您享有的下列债权及相关权利转让给%s（资产包 %s）。根据《中华人民共和国民法典》第五百四十六条，自本通知到达之日起，请向%s履行还款义务。</p>",
		e(name), e(n.Seller), n.AwardDate, e(n.Buyer), e(n.PortfolioRef), e(n.Buyer))
	h.WriteString("<table><tr><th>Loan</th><th>Claim</th></tr>")
	for _, l := range n.Loans {
		fmt.Fprintf(&h, "<tr><td>%s</td><td>%s %s</td></tr>", e(l.LoanRef), l.Claim.Currency(), l.Claim)
	}
	h.WriteString("</table></article>")
	return t.String(), h.String()
}
