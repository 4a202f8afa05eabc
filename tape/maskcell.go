package tape

import (
	"strings"

	"reclaim/cnid"
)

// MaskCell returns a personal field's raw cell value masked for files a person downloads (the
// rejects file of an import): enough is left to find the row again, never enough to identify the
// borrower. Empty stays empty (a missing value is often why the row was rejected). The name keeps
// its first character (the surname), the national ID and the phone their cnid masks, the bank card
// its last four digits, the address its first six characters (province and city); employer and
// contacts are starred out entirely. Fields that are not personal are returned unchanged.
func MaskCell(f Field, v string) string {
	if f < 0 || int(f) >= NumFields || !Fields[f].Personal {
		return v
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	r := []rune(v)
	switch f {
	case FName:
		if len(r) == 1 {
			return "*"
		}
		return string(r[0]) + strings.Repeat("*", min(len(r)-1, 3))
	case FNationalID:
		return cnid.Mask(v)
	case FPhone:
		return cnid.MaskPhone(v)
	case FBankCard:
		if len(r) < 8 {
			return strings.Repeat("*", len(r))
		}
		return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
	case FAddress:
		if len(r) <= 8 {
			return "***"
		}
		return string(r[:6]) + "***"
	}
	return "***"
}
