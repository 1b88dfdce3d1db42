package survey

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// benchVisitKinds are the two shapes of visit the hot path sees: a full
// household interview (every module) and a typical QR visit (core and one
// rotating module).
var benchVisitKinds = []struct {
	name    string
	modules func(c *Catalogue, i int) []string
}{
	{"full", func(c *Catalogue, i int) []string { return c.AllModules() }},
	{"qr", func(c *Catalogue, i int) []string { return c.AssignModules(uint64(i)) }},
}

// benchSubmissions synthesizes n submissions of one kind for the newest
// catalogue, at a centre of a known commune so that some residents live
// elsewhere.
func benchSubmissions(tb testing.TB, kind int, n int) (*Catalogue, []Submission) {
	tb.Helper()
	cats, err := Catalogues()
	if err != nil {
		tb.Fatal(err)
	}
	c := cats[len(cats)-1]
	rng := rand.New(rand.NewPCG(7, uint64(kind)))
	subs := make([]Submission, n)
	for i := range subs {
		subs[i] = c.SynthesizeAt(rng, benchVisitKinds[kind].modules(c, i), rng.Float64(), "26740")
	}
	return c, subs
}

func BenchmarkValidateSubmission(b *testing.B) {
	for k, kind := range benchVisitKinds {
		b.Run(kind.name, func(b *testing.B) {
			c, subs := benchSubmissions(b, k, 64)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := c.ValidateSubmission(subs[i%len(subs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkCredits(b *testing.B) {
	for k, kind := range benchVisitKinds {
		b.Run(kind.name, func(b *testing.B) {
			c, subs := benchSubmissions(b, k, 64)
			visits := make([]Visit, len(subs))
			for i, sub := range subs {
				v, err := c.ValidateSubmission(sub)
				if err != nil {
					b.Fatal(err)
				}
				visits[i] = v
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				c.Credits(visits[i%len(visits)], "26740")
				i++
			}
		})
	}
}

func BenchmarkParseAnswers(b *testing.B) {
	for k, kind := range benchVisitKinds {
		b.Run(kind.name, func(b *testing.B) {
			c, subs := benchSubmissions(b, k, 64)
			stored := make([][]byte, len(subs))
			for i, sub := range subs {
				v, err := c.ValidateSubmission(sub)
				if err != nil {
					b.Fatal(err)
				}
				if stored[i], err = json.Marshal(v.Answers); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := ParseAnswers(stored[i%len(stored)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
