package pii

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"reclaim"
	"reclaim/date"
)

// The encoder writes the fields of reclaim.PersonalData, in order, under their JSON names: a
// field added to the struct must be added to appendPersonalJSON too.
func TestPersonalJSONFields(t *testing.T) {
	want := []string{"name,omitempty", "national_id,omitempty", "phone,omitempty", "address,omitempty",
		"employer,omitempty", "bank_card,omitempty", "contacts,omitempty", "birth_date,omitzero"}
	typ := reflect.TypeFor[reclaim.PersonalData]()
	var got []string
	for i := 0; i < typ.NumField(); i++ {
		got = append(got, typ.Field(i).Tag.Get("json"))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("PersonalData's JSON fields are %q; appendPersonalJSON writes %q", got, want)
	}
}

func checkPersonalJSON(t *testing.T, p reclaim.PersonalData) {
	t.Helper()
	want, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := appendPersonalJSON([]byte("prefix"), &p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[len("prefix"):], want) {
		t.Fatalf("appendPersonalJSON = %s\njson.Marshal      = %s", got[len("prefix"):], want)
	}
}

func TestPersonalJSONMatchesMarshal(t *testing.T) {
	checkPersonalJSON(t, reclaim.PersonalData{})
	checkPersonalJSON(t, reclaim.PersonalData{BirthDate: date.Of(1975, 12, 22)})
	checkPersonalJSON(t, reclaim.PersonalData{Name: "邹燕", NationalID: "430681197512224845", Phone: "17065074194",
		Address: "湖南省岳阳市长江路104号丽都花园30栋3单元404室", Employer: "无固定工作", BankCard: "6212260761240535366",
		Contacts: "夏刚(同事)17587016666; 陈阳(配偶)15385799002", BirthDate: date.Of(1975, 12, 22)})
	for _, s := range []string{"a\"b", `back\slash`, "<b>&amp;</b>", "tab\there", "nl\n", "\x00\x1f\x7f", "\u2028\u2029",
		"bad \xff utf8", "\xe4\xb8", "é", "🙂", "\ufeff"} {
		checkPersonalJSON(t, reclaim.PersonalData{Name: s, Contacts: s + s})
		checkPersonalJSON(t, reclaim.PersonalData{Employer: s, BirthDate: date.Of(2000, 2, 29)})
	}
	// The sealed plaintext is that encoding: it opens to the same data.
	ring, err := NewKeyring(testKey(t, 9))
	if err != nil {
		t.Fatal(err)
	}
	p := reclaim.PersonalData{Name: "张<三>", Phone: "13800138000", BirthDate: date.Of(1990, 1, 2)}
	blob, err := ring.SealPersonal(p, []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ring.Open(blob, []byte("aad"))
	if want, _ := json.Marshal(p); err != nil || !bytes.Equal(plain, want) {
		t.Fatalf("sealed plaintext %s (%v), want %s", plain, err, want)
	}
}

func FuzzPersonalJSON(f *testing.F) {
	f.Add("邹燕", "430681197512224845", "13800138000", "a<b>&\"\\\n\u2028", "\xff\xfe", int64(3000))
	f.Add("", "", "", "", "", int64(0))
	f.Fuzz(func(t *testing.T, name, id, phone, addr, other string, days int64) {
		p := reclaim.PersonalData{Name: name, NationalID: id, Phone: phone, Address: addr, Employer: other,
			BankCard: id + other, Contacts: other + name}
		if days != 0 {
			p.BirthDate = date.Of(1900, 1, 1).AddDays(int(days % 100000))
		}
		checkPersonalJSON(t, p)
	})
}

// FuzzPlainJSON: plainJSON says a string is written as it is exactly when encoding/json does.
func FuzzPlainJSON(f *testing.F) {
	for _, s := range []string{"", "abc", "邹燕", "a\u2028b", "\u2029", "\xe2\x80", "\xe2\x80\xa8", "\xe2\x80\xa7", "长\xff", "<", "\x1f", "\x7f", "\xe0\x9f\x80", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xed\xa0\x80", "\xef\xbf\xbf", "a\xe4\xb8", "\xf0\x9f\x98\x80", "\xc3\xa9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, _ := json.Marshal(s)
		if want := string(b) == `"`+s+`"`; plainJSON(s) != want {
			t.Fatalf("plainJSON(%q) = %v, encoding/json writes %s", s, !want, b)
		}
	})
}
