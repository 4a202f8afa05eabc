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
