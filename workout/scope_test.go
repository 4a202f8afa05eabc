package workout

import (
	"testing"

	"pgregory.net/rapid"

	"reclaim"
)

func TestMayReadPersonal(t *testing.T) {
	mine := Case{ID: 1, Assignee: "alice"}
	theirs := Case{ID: 2, Assignee: "bob"}
	placed := Case{ID: 3, Agency: "Acme"}
	recalled := Case{ID: 4} // recall clears the case's agency
	alice := Viewer{Role: reclaim.RoleCollector, Username: "alice"}
	acme := Viewer{Role: reclaim.RoleAgency, Username: "a1", Agency: "Acme"}
	for _, tc := range []struct {
		name  string
		v     Viewer
		cases []Case
		want  bool
	}{
		{"collector, own case", alice, []Case{mine}, true},
		{"collector, another collector's case", alice, []Case{theirs}, false},
		{"collector, one of two cases is own", alice, []Case{theirs, mine}, true},
		{"collector, unassigned case", alice, []Case{{ID: 5}}, false},
		{"collector without a name", Viewer{Role: reclaim.RoleCollector}, []Case{{ID: 5}}, false},
		{"collector, borrower not boarded", alice, nil, false},
		{"agency, its placement", acme, []Case{placed}, true},
		{"agency, after recall", acme, []Case{recalled}, false},
		{"agency, another agency's placement", Viewer{Role: reclaim.RoleAgency, Username: "b1", Agency: "Other"}, []Case{placed}, false},
		{"agency user of no agency", Viewer{Role: reclaim.RoleAgency, Username: "c1"}, []Case{{ID: 6}}, false},
		{"legal, any case", Viewer{Role: reclaim.RoleLegal, Username: "l"}, []Case{theirs}, true},
		{"legal, not boarded", Viewer{Role: reclaim.RoleLegal, Username: "l"}, nil, false},
		{"manager sees cases but may not reveal", Viewer{Role: reclaim.RoleCollectionManager, Username: "m"}, []Case{mine}, false},
		{"admin", Viewer{Role: reclaim.RoleAdmin, Username: "root"}, []Case{mine}, false},
		{"analyst", Viewer{Role: reclaim.RoleAnalyst, Username: "an"}, []Case{mine}, false},
		{"auditor", Viewer{Role: reclaim.RoleAuditor, Username: "au"}, []Case{mine}, false},
	} {
		if got := MayReadPersonal(tc.v, tc.cases); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestMayReadPersonalProperty: the reveal scope never exceeds the case scope, and a role
// without case.personal never reads.
func TestMayReadPersonalProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		names := []string{"", "alice", "bob"}
		agencies := []string{"", "Acme", "Other"}
		v := Viewer{Role: rapid.SampledFrom(reclaim.Roles).Draw(t, "role"), Username: rapid.SampledFrom(names).Draw(t, "user"),
			Agency: rapid.SampledFrom(agencies).Draw(t, "agency")}
		n := rapid.IntRange(0, 4).Draw(t, "n")
		cases := make([]Case, n)
		anyVisible := false
		for i := range cases {
			cases[i] = Case{ID: int64(i + 1), Assignee: rapid.SampledFrom(names).Draw(t, "assignee"), Agency: rapid.SampledFrom(agencies).Draw(t, "placed")}
			anyVisible = anyVisible || CanSee(v, cases[i])
		}
		got := MayReadPersonal(v, cases)
		if got && !anyVisible {
			t.Fatalf("%+v reads a borrower of cases it cannot see: %+v", v, cases)
		}
		if got && !v.Role.Can(reclaim.PermCasePersonal) {
			t.Fatalf("%s reads without case.personal", v.Role)
		}
		if got != (anyVisible && v.Role.Can(reclaim.PermCasePersonal)) {
			t.Fatalf("%+v on %+v: %v", v, cases, got)
		}
	})
}
