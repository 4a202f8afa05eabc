package pii

import (
	"testing"

	"reclaim"
)

func BenchmarkBlindTerms(b *testing.B) {
	k, err := NewBlindKey(make([]byte, KeySize))
	if err != nil {
		b.Fatal(err)
	}
	p := reclaim.PersonalData{NationalID: "430681197512224845", Phone: "17065074194"}
	b.ReportAllocs()
	for b.Loop() {
		k.Terms(p)
	}
}

func BenchmarkSealPersonal(b *testing.B) {
	ring, err := NewKeyring(testKey(b, 1))
	if err != nil {
		b.Fatal(err)
	}
	p := reclaim.PersonalData{Name: "邹燕", NationalID: "430681197512224845", Phone: "17065074194",
		Address: "湖南省岳阳市长江路104号丽都花园30栋3单元404室", Employer: "无固定工作", BankCard: "6212260761240535366",
		Contacts: "夏刚(同事)17587016666; 陈阳(配偶)15385799002"}
	aad := []byte("reclaim/pii/v1\x00a6a2325db377c21bfe28484b4d7129ead6ad6aae9af47d8ec6853bebdf95798f\x00C000000001")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ring.SealPersonal(p, aad); err != nil {
			b.Fatal(err)
		}
	}
}
