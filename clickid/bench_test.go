package clickid_test

import (
	"crypto/rand"
	"testing"

	"github.com/google/uuid"

	"github.com/s2skit/s2s/clickid"
)

// The baselines are what a user would write instead: google/uuid's UUIDv7 as a string, the
// bare crypto/rand read an ID needs at least, and google/uuid's parser. Compare each
// benchmark with its baseline in the same run:
//
//	go test -run=NONE -bench=. -benchmem -cpu=1,2 ./clickid/

// Results go to package variables, so the compiler cannot keep them on the stack or drop
// them: an ID string that travels in a URL is always on the heap.
var (
	sinkString string
	sinkID     clickid.ID
	sinkUUID   uuid.UUID
)

func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		id, err := clickid.New()
		if err != nil {
			b.Fatal(err)
		}
		sinkString = id.String()
	}
}

// BenchmarkNewParallel measures New alone on every P; run it with -cpu=1,2 to see it scale.
func BenchmarkNewParallel(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := clickid.New(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	s := clickid.MustParse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b").String()
	b.ReportAllocs()
	for b.Loop() {
		id, err := clickid.Parse(s)
		if err != nil {
			b.Fatal(err)
		}
		sinkID = id
	}
}

func BenchmarkParseUUID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := clickid.Parse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifySigned(b *testing.B) {
	s := benchSigner(b)
	signed := s.Sign(clickid.MustParse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(signed); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyForged measures the rejection of a forged ID: it must be as cheap as a
// valid one, and allocate nothing.
func BenchmarkVerifyForged(b *testing.B) {
	s := benchSigner(b)
	signed := []byte(s.Sign(clickid.MustParse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b")))
	signed[len(signed)-1] ^= 1
	forged := string(signed)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Verify(forged); err == nil {
			b.Fatal("forged id verified")
		}
	}
}

func BenchmarkBaselineUUIDv7String(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		u, err := uuid.NewV7()
		if err != nil {
			b.Fatal(err)
		}
		sinkString = u.String()
	}
}

// BenchmarkBaselineUUIDv7Parallel is the parallel counterpart of BenchmarkNewParallel.
func BenchmarkBaselineUUIDv7Parallel(b *testing.B) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := uuid.NewV7(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkBaselineRand16(b *testing.B) {
	var buf [16]byte
	b.ReportAllocs()
	for b.Loop() {
		_, _ = rand.Read(buf[:])
	}
}

func BenchmarkBaselineUUIDParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		u, err := uuid.Parse("0190f3a2-7c4e-7b1a-9f00-1c2d3e4f5a6b")
		if err != nil {
			b.Fatal(err)
		}
		sinkUUID = u
	}
}

func benchSigner(b *testing.B) *clickid.Signer {
	b.Helper()
	s, err := clickid.NewSigner(clickid.SignerKey{ID: 1, Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		b.Fatal(err)
	}
	return s
}
