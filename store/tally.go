package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/papi-hcmc/papi/survey"
)

// Tallies are kept as one row per key: grain ('d' by day, 'm' by month,
// 'y' by year), period, the commune credited, the centre visited, the channel, the
// questionnaire version and whether the answers were verified or flagged.
// A row holds the visits' counters and one packed value with every
// indicator's running sums, so a batch of responses costs one read and one
// write per key it touches, and a year of a commune is a handful of rows
// whatever the number of responses.
const (
	grainDay   = "d"
	grainMonth = "m"
	grainYear  = "y"
)

// tallyPeriod is the period of a tally row of one grain.
type tallyPeriod struct{ grain, period string }

// grains is the number of grains: day, month, year.
const grains = 3

// periodsOf are the rows a response of day ("YYYY-MM-DD") is in: its day,
// its month and its year, in that order. Year rows keep a year's read a
// few rows per commune: from month rows the city's year at 1,000,000
// responses read ten times as many (see BENCHMARKS.md).
func periodsOf(day string) [grains]tallyPeriod {
	return [grains]tallyPeriod{{grainDay, day}, {grainMonth, day[:7]}, {grainYear, day[:4]}}
}

// layout is what packing needs to know about one catalogue version: its
// indicators and modules in catalogue order (a published version never
// changes, so an index into them is stable) and where each indicator lands
// in the current catalogue.
type layout struct {
	version string
	cat     *survey.Catalogue
	ids     []string
	index   map[string]int
	median  []bool
	modules []string
	module  map[string]int
	// current maps an indicator index to the current catalogue's index of
	// the indicator it counts for, or -1 when it does not carry over.
	current []int
	pool    sync.Pool // []indAcc of len(ids), reused between batches
}

func newLayout(c, current *survey.Catalogue) *layout {
	l := &layout{version: c.Version, cat: c, index: map[string]int{}, module: map[string]int{}}
	curIndex := map[string]int{}
	for i, ind := range current.Indicators() {
		curIndex[ind.ID] = i
	}
	for i, ind := range c.Indicators() {
		l.ids = append(l.ids, ind.ID)
		l.index[ind.ID] = i
		l.median = append(l.median, ind.Kind == survey.KindMedian)
		cur := -1
		if j, ok := curIndex[ind.ID]; ok && current.Carries(c.Version, ind.ID) {
			cur = j
		}
		l.current = append(l.current, cur)
	}
	for i, m := range c.Modules {
		l.modules = append(l.modules, m.ID)
		l.module[m.ID] = i
	}
	return l
}

// counters are a row's counts of visits: Responses visits at the centre,
// split by where the respondent lives. They are kept on the row of the
// commune visited only; a commune credited with a visitor's locality
// answers gets the indicators, not the visit.
type counters struct {
	Responses, Here, Other, Outside, Unknown int64
}

func (c *counters) add(o counters) {
	c.Responses += o.Responses
	c.Here += o.Here
	c.Other += o.Other
	c.Outside += o.Outside
	c.Unknown += o.Unknown
}

func (c counters) zero() bool { return c == counters{} }

// indAcc is one indicator's running sums in memory (see survey.Tally; N is
// a whole count here). It holds either absolute values or a batch's delta.
type indAcc struct {
	n                 int64
	w, w2, sum, sumSq float64
	hist              map[float64]float64
}

// cell is one key's tally in memory.
type cell struct {
	l        *layout
	counters counters
	modules  []int64 // visits per module, by the layout's module index
	ind      []indAcc
}

func (l *layout) newCell() *cell {
	// The pool holds pointers: putting a slice itself would allocate its
	// header on every Put (staticcheck SA6002).
	var ind []indAcc
	if p, ok := l.pool.Get().(*[]indAcc); ok {
		ind = *p
	} else {
		ind = make([]indAcc, len(l.ids))
	}
	return &cell{l: l, modules: make([]int64, len(l.modules)), ind: ind}
}

// release returns the cell's indicator slice to the layout's pool.
func (c *cell) release() {
	clear(c.ind)
	ind := c.ind
	c.l.pool.Put(&ind)
	c.ind = nil
}

func (c *cell) observe(o survey.Observation, sign int64) {
	i, ok := c.l.index[o.Indicator]
	if !ok {
		return
	}
	a := &c.ind[i]
	s := float64(sign)
	a.n += sign
	a.w += s * o.W
	a.w2 += s * o.W * o.W
	a.sum += s * o.W * o.X
	a.sumSq += s * o.W * o.X * o.X
	if c.l.median[i] {
		if a.hist == nil {
			a.hist = map[float64]float64{}
		}
		a.hist[o.X] += s * o.W
	}
}

// merge adds another cell of the same layout.
func (c *cell) merge(o *cell) {
	c.counters.add(o.counters)
	for i, n := range o.modules {
		c.modules[i] += n
	}
	for i := range o.ind {
		b := &o.ind[i]
		if b.n == 0 && b.w == 0 && len(b.hist) == 0 {
			continue
		}
		a := &c.ind[i]
		a.n += b.n
		a.w += b.w
		a.w2 += b.w2
		a.sum += b.sum
		a.sumSq += b.sumSq
		for v, w := range b.hist {
			if a.hist == nil {
				a.hist = map[float64]float64{}
			}
			a.hist[v] += w
		}
	}
}

// empty reports whether the cell holds nothing worth a row.
func (c *cell) empty() bool {
	if !c.counters.zero() {
		return false
	}
	for _, n := range c.modules {
		if n != 0 {
			return false
		}
	}
	for i := range c.ind {
		if c.ind[i].n != 0 {
			return false
		}
	}
	return true
}

// check refuses absolute values that cannot be: a negative count means a
// removal without its addition, which only a corrupted row could cause.
func (c *cell) check() error {
	if c.counters.Responses < 0 || c.counters.Here < 0 || c.counters.Other < 0 || c.counters.Outside < 0 || c.counters.Unknown < 0 {
		return errNegative
	}
	for _, n := range c.modules {
		if n < 0 {
			return errNegative
		}
	}
	for i := range c.ind {
		if c.ind[i].n < 0 {
			return errNegative
		}
	}
	return nil
}

var errNegative = errors.New("a tally went below zero: run papi recompute to rebuild the tallies from the responses")

// The packed value, format 1:
//
//	byte     format (1)
//	uvarint  number of modules with visits, then for each: uvarint module
//	         index gap, uvarint visits
//	then, to the end, one entry per indicator with N > 0, in index order:
//	uvarint  index gap (index − previous index − 1)
//	byte     flags (below)
//	uvarint  N
//	         W and W2 as float64 when flagWeighted, else both equal N
//	         Sum as a zigzag varint when flagSumInt, else float64
//	         SumSq omitted when flagSqIsSum (0/1 values), a zigzag varint
//	         when flagSqInt, else float64
//	         when flagHist: uvarint pairs, then per pair the value (zigzag
//	         varint when flagHistInt, else float64) and its Σw (uvarint when
//	         the entry is unweighted, else float64)
//
// Whole numbers are the common case (unit weights, answers coded 0/1 or on
// small scales), so a day at a centre packs into a few hundred bytes and a
// row stays within one database page.
const packFormat = 1

const (
	flagWeighted = 1 << iota
	flagSumInt
	flagSqIsSum
	flagSqInt
	flagHist
	flagHistInt
)

// encode appends the packed value of c to dst.
func (c *cell) encode(dst []byte) []byte {
	dst = append(dst, packFormat)
	nm := 0
	for _, n := range c.modules {
		if n != 0 {
			nm++
		}
	}
	dst = binary.AppendUvarint(dst, uint64(nm))
	prev := -1
	for i, n := range c.modules {
		if n != 0 {
			dst = binary.AppendUvarint(dst, uint64(i-prev-1))
			dst = binary.AppendUvarint(dst, uint64(n))
			prev = i
		}
	}
	prev = -1
	var keys []float64
	for i := range c.ind {
		a := &c.ind[i]
		if a.n <= 0 {
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(i-prev-1))
		prev = i
		n := float64(a.n)
		// Histogram values whose Σw cancelled out (a response moved out)
		// are dropped; a real one weighs at least 1 (w = 1/p, p ≤ 1).
		keys = keys[:0]
		histInt, histWhole := true, true
		for v, w := range a.hist {
			if math.Abs(w) >= 1e-6 {
				keys = append(keys, v)
				histInt = histInt && isWhole(v)
				histWhole = histWhole && isWhole(w) && w > 0
			}
		}
		var flags byte
		weighted := a.w != n || a.w2 != n || !histWhole
		if weighted {
			flags |= flagWeighted
		}
		if isWhole(a.sum) {
			flags |= flagSumInt
		}
		switch {
		case a.sumSq == a.sum:
			flags |= flagSqIsSum
		case isWhole(a.sumSq):
			flags |= flagSqInt
		}
		if len(keys) > 0 {
			flags |= flagHist
			if histInt {
				flags |= flagHistInt
			}
		}
		dst = append(dst, flags)
		dst = binary.AppendUvarint(dst, uint64(a.n))
		if weighted {
			dst = appendFloat(dst, a.w)
			dst = appendFloat(dst, a.w2)
		}
		if flags&flagSumInt != 0 {
			dst = binary.AppendVarint(dst, int64(a.sum))
		} else {
			dst = appendFloat(dst, a.sum)
		}
		if flags&flagSqInt != 0 {
			dst = binary.AppendVarint(dst, int64(a.sumSq))
		} else if flags&flagSqIsSum == 0 {
			dst = appendFloat(dst, a.sumSq)
		}
		if len(keys) > 0 {
			slices.Sort(keys)
			dst = binary.AppendUvarint(dst, uint64(len(keys)))
			for _, v := range keys {
				if histInt {
					dst = binary.AppendVarint(dst, int64(v))
				} else {
					dst = appendFloat(dst, v)
				}
				if weighted {
					dst = appendFloat(dst, a.hist[v])
				} else {
					dst = binary.AppendUvarint(dst, uint64(a.hist[v]))
				}
			}
		}
	}
	return dst
}

func isWhole(x float64) bool { return x == math.Trunc(x) && math.Abs(x) < 1<<53 }

func appendFloat(dst []byte, x float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(x))
}

// packedEntry is one decoded indicator entry; hist is reused between
// entries by the reader.
type packedEntry struct {
	index             int
	n                 int64
	w, w2, sum, sumSq float64
	hist              []histPair
}

type histPair struct{ value, weight float64 }

var errPacked = errors.New("corrupt packed tally")

// readPacked decodes a packed value of a layout with nind indicators and
// nmod modules, calling mod for each module count and ind for each entry
// (the entry is only valid during the call).
func readPacked(data []byte, nind, nmod int, mod func(i int, n int64), ind func(e *packedEntry)) error {
	if len(data) == 0 {
		return nil // a row with counters only
	}
	if data[0] != packFormat {
		return fmt.Errorf("%w: format %d is not known to this build", errPacked, data[0])
	}
	r := reader{data: data, pos: 1}
	nm := r.uvarint()
	if r.err != nil || nm > uint64(nmod) {
		return errPacked
	}
	prev := -1
	for k := uint64(0); k < nm; k++ {
		gap := r.uvarint()
		n := r.uvarint()
		if r.err != nil || gap >= uint64(nmod) || prev+1+int(gap) >= nmod || n > math.MaxInt64 {
			return errPacked
		}
		prev += 1 + int(gap)
		mod(prev, int64(n))
	}
	var e packedEntry
	prev = -1
	for r.pos < len(r.data) {
		gap := r.uvarint()
		if r.err != nil || gap >= uint64(nind) || prev+1+int(gap) >= nind {
			return errPacked
		}
		prev += 1 + int(gap)
		flags := r.byte()
		n := r.uvarint()
		if r.err != nil || n == 0 || n > 1<<53 || flags>>6 != 0 {
			return errPacked
		}
		e.index, e.n, e.hist = prev, int64(n), e.hist[:0]
		if flags&flagWeighted != 0 {
			e.w, e.w2 = r.float(), r.float()
		} else {
			e.w, e.w2 = float64(n), float64(n)
		}
		if flags&flagSumInt != 0 {
			e.sum = float64(r.varint())
		} else {
			e.sum = r.float()
		}
		switch {
		case flags&flagSqIsSum != 0:
			e.sumSq = e.sum
		case flags&flagSqInt != 0:
			e.sumSq = float64(r.varint())
		default:
			e.sumSq = r.float()
		}
		if flags&flagHist != 0 {
			np := r.uvarint()
			if r.err != nil || np > uint64(len(r.data)-r.pos) {
				return errPacked
			}
			for p := uint64(0); p < np; p++ {
				var h histPair
				if flags&flagHistInt != 0 {
					h.value = float64(r.varint())
				} else {
					h.value = r.float()
				}
				if flags&flagWeighted != 0 {
					h.weight = r.float()
				} else {
					h.weight = float64(r.uvarint())
				}
				e.hist = append(e.hist, h)
			}
		}
		if r.err != nil {
			return errPacked
		}
		ind(&e)
	}
	return nil
}

// decodeInto adds a packed value of c's layout to c.
func (c *cell) decodeInto(data []byte) error {
	return readPacked(data, len(c.ind), len(c.modules),
		func(i int, n int64) { c.modules[i] += n },
		func(e *packedEntry) {
			a := &c.ind[e.index]
			a.n += e.n
			a.w += e.w
			a.w2 += e.w2
			a.sum += e.sum
			a.sumSq += e.sumSq
			for _, h := range e.hist {
				if a.hist == nil {
					a.hist = map[float64]float64{}
				}
				a.hist[h.value] += h.weight
			}
		})
}

type reader struct {
	data []byte
	pos  int
	err  error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Uvarint(r.data[r.pos:])
	if k <= 0 {
		r.err = errPacked
		return 0
	}
	r.pos += k
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Varint(r.data[r.pos:])
	if k <= 0 {
		r.err = errPacked
		return 0
	}
	r.pos += k
	return v
}

func (r *reader) byte() byte {
	if r.err != nil || r.pos >= len(r.data) {
		r.err = errPacked
		return 0
	}
	b := r.data[r.pos]
	r.pos++
	return b
}

func (r *reader) float() float64 {
	if r.err != nil || len(r.data)-r.pos < 8 {
		r.err = errPacked
		return 0
	}
	x := math.Float64frombits(binary.LittleEndian.Uint64(r.data[r.pos:]))
	r.pos += 8
	return x
}
