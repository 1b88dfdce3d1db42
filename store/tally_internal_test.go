package store

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/papi-hcmc/papi/survey"
)

func testLayout(t testing.TB) *layout {
	t.Helper()
	cats, err := survey.Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	c := cats[len(cats)-1]
	return newLayout(c, c)
}

// randomCell fills a cell as a run of observations would: unit weights,
// design weights 1/p, medians with whole or fractional values.
func randomCell(rng *rand.Rand, l *layout) *cell {
	c := l.newCell()
	c.counters = counters{Responses: rng.Int64N(50), Here: rng.Int64N(5), Other: rng.Int64N(5), Outside: rng.Int64N(5), Unknown: rng.Int64N(5)}
	for i := range c.modules {
		if rng.IntN(3) == 0 {
			c.modules[i] = rng.Int64N(1000)
		}
	}
	weighted := rng.IntN(2) == 0
	for i := range l.ids {
		if rng.IntN(3) == 0 {
			continue
		}
		for k := 0; k < 1+rng.IntN(20); k++ {
			w := 1.0
			if weighted {
				w = 1 / (0.04 + 0.96*rng.Float64())
			}
			x := float64(rng.IntN(2))
			if l.median[i] {
				x = float64(rng.IntN(500)) * 1000
				if rng.IntN(4) == 0 {
					x += 0.5
				}
			} else if rng.IntN(3) == 0 {
				x = float64(rng.IntN(5)) + rng.Float64()
			}
			c.observe(survey.Observation{Indicator: l.ids[i], X: x, W: w}, +1)
		}
	}
	return c
}

func sameCell(t *testing.T, what string, got, want *cell) {
	t.Helper()
	if got.counters != want.counters {
		t.Errorf("%s counters: got %+v, want %+v", what, got.counters, want.counters)
	}
	if !got.equal(want) {
		for i := range want.ind {
			g, w := got.ind[i], want.ind[i]
			if g.n != w.n || g.w != w.w || g.w2 != w.w2 || g.sum != w.sum || g.sumSq != w.sumSq {
				t.Errorf("%s indicator %d: got %+v, want %+v", what, i, g, w)
			}
		}
		t.Fatalf("%s: cells differ", what)
	}
}

// TestPackedRoundTrip encodes random cells and decodes them back: every
// counter, module count, sum and histogram survives bit for bit.
func TestPackedRoundTrip(t *testing.T) {
	l := testLayout(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		c := randomCell(rng, l)
		data := c.encode(nil)
		d := l.newCell()
		d.counters = c.counters
		if err := d.decodeInto(data); err != nil {
			t.Fatalf("case %d: decode: %v", i, err)
		}
		sameCell(t, "round trip", d, c)
		for j := range c.ind {
			if c.ind[j].w != d.ind[j].w || c.ind[j].sum != d.ind[j].sum || len(c.ind[j].hist) != len(d.ind[j].hist) {
				t.Fatalf("case %d indicator %d: got %+v, want %+v (exact)", i, j, d.ind[j], c.ind[j])
			}
		}
		if again := d.encode(nil); string(again) != string(data) {
			t.Fatalf("case %d: re-encoding differs (%d vs %d bytes)", i, len(again), len(data))
		}
		c.release()
		d.release()
	}
}

// TestPackedSize shows why the encoding is worth it: a busy day at one
// centre (every indicator answered, unit weights) fits in one database page.
func TestPackedSize(t *testing.T) {
	l := testLayout(t)
	c := l.newCell()
	defer c.release()
	rng := rand.New(rand.NewPCG(3, 4))
	for k := 0; k < 60; k++ {
		for i, id := range l.ids {
			x := float64(rng.IntN(2))
			if l.median[i] {
				x = float64(rng.IntN(300) * 1000)
			}
			c.observe(survey.Observation{Indicator: id, X: x, W: 1}, +1)
		}
	}
	n := len(c.encode(nil))
	t.Logf("%d indicators × 60 respondents pack into %d bytes", len(l.ids), n)
	if n > 4000 {
		t.Errorf("packed day: got %d bytes, want under a 4 KiB page", n)
	}
}

// TestCellRemoval adds and removes the same observations: what remains
// encodes as if they had never been there, with no floating residue.
func TestCellRemoval(t *testing.T) {
	l := testLayout(t)
	rng := rand.New(rand.NewPCG(5, 6))
	base := randomCell(rng, l)
	want := base.encode(nil)
	extra := []survey.Observation{}
	for i := 0; i < 40; i++ {
		id := l.ids[rng.IntN(len(l.ids))]
		extra = append(extra, survey.Observation{Indicator: id, X: float64(rng.IntN(3000)), W: 1 / (0.1 + 0.9*rng.Float64())})
	}
	for _, o := range extra {
		base.observe(o, +1)
	}
	for _, o := range extra {
		base.observe(o, -1)
	}
	d := l.newCell()
	if err := d.decodeInto(base.encode(nil)); err != nil {
		t.Fatal(err)
	}
	w := l.newCell()
	if err := w.decodeInto(want); err != nil {
		t.Fatal(err)
	}
	if !d.equal(w) {
		t.Error("after adding and removing the same observations the cell differs from before")
	}
	for i := range d.ind {
		if w.ind[i].n == 0 && d.ind[i].n != 0 {
			t.Errorf("indicator %d: got n %d, want it dropped", i, d.ind[i].n)
		}
	}
}

// TestPackedRejectsCorruption: truncated values, unknown formats and
// indexes beyond the layout are errors, never a panic or a wrong sum.
func TestPackedRejectsCorruption(t *testing.T) {
	l := testLayout(t)
	c := randomCell(rand.New(rand.NewPCG(7, 8)), l)
	data := c.encode(nil)
	for cut := 1; cut < len(data); cut += 7 {
		d := l.newCell()
		_ = d.decodeInto(data[:cut]) // must not panic
		d.release()
	}
	cases := map[string][]byte{
		"unknown format":      {9},
		"module out of range": {packFormat, 1, byte(len(l.modules)), 1},
		"index out of range":  append([]byte{packFormat, 0}, 200, 1, 0, 1, 1),
		"zero count":          {packFormat, 0, 0, 0, 0, 1},
	}
	for name, b := range cases {
		d := l.newCell()
		if err := d.decodeInto(b); err == nil {
			t.Errorf("%s: got no error, want one", name)
		}
		d.release()
	}
}

// FuzzPacked feeds arbitrary bytes to the decoder: it must not panic, and
// whatever it accepts must re-encode to a value that decodes the same.
func FuzzPacked(f *testing.F) {
	l := testLayout(f)
	rng := rand.New(rand.NewPCG(9, 10))
	for i := 0; i < 8; i++ {
		f.Add(randomCell(rng, l).encode(nil))
	}
	f.Add([]byte{packFormat, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := l.newCell()
		defer c.release()
		if err := c.decodeInto(data); err != nil {
			return
		}
		for i := range c.ind {
			a := c.ind[i]
			if anyNaN(a.w, a.w2, a.sum, a.sumSq) {
				return // NaN never equals itself; nothing to compare
			}
			for v, w := range a.hist {
				if anyNaN(v, w) {
					return
				}
			}
		}
		d := l.newCell()
		defer d.release()
		if err := d.decodeInto(c.encode(nil)); err != nil {
			t.Fatalf("re-encoded value does not decode: %v", err)
		}
		for i := range c.ind {
			x, y := c.ind[i], d.ind[i]
			if x.n != y.n || x.w != y.w || x.w2 != y.w2 || x.sum != y.sum || x.sumSq != y.sumSq {
				t.Fatalf("indicator %d: got %+v after re-encoding, want %+v", i, y, x)
			}
		}
	})
}

func anyNaN(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return true
		}
	}
	return false
}
