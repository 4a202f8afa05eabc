package workout

import "reclaim"

// Viewer is who asks to see or work a case.
type Viewer struct {
	Role     reclaim.Role
	Username string
	Agency   string // the agency an agency user belongs to ("" for none)
}

// CanSee is the case scope rule: a collector sees only the cases assigned to it; an agency user
// only the cases currently placed with its agency (and none when it belongs to no agency);
// every other role that holds case.read sees every case. A case outside the scope is answered
// as not found, so that its existence does not leak.
func CanSee(v Viewer, c Case) bool {
	switch v.Role {
	case reclaim.RoleCollector:
		return v.Username != "" && c.Assignee == v.Username
	case reclaim.RoleAgency:
		return v.Agency != "" && c.Agency == v.Agency
	}
	return v.Role.Can(reclaim.PermCaseRead)
}

// MayReadPersonal is the personal-data scope rule, the same for every address that reveals a
// debtor (the case route and the portfolio borrower route): the viewer's role must hold
// case.personal, and the borrower must belong to at least one case the viewer can see
// (CanSee: a collector's own assigned case, an agency user's case placed with its agency and
// not recalled, any case for legal staff). A borrower in no case (not boarded) is readable by
// no one through these routes. cases are the cases holding the borrower's loans.
func MayReadPersonal(v Viewer, cases []Case) bool {
	if !v.Role.Can(reclaim.PermCasePersonal) {
		return false
	}
	for _, c := range cases {
		if CanSee(v, c) {
			return true
		}
	}
	return false
}
