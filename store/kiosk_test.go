package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// testClock is a settable clock for the store.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// rawText is every text value of a table's rows joined, to look for
// something that must not be stored.
func rawText(t *testing.T, raw *gorm.DB, table string) string {
	t.Helper()
	var rows []map[string]any
	if err := raw.Table(table).Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range rows {
		for k, v := range r {
			fmt.Fprintf(&b, "%s=%v\n", k, v)
		}
	}
	return b.String()
}

// TestKioskEnrolAndRevoke: staff create a kiosk and get a one-time code;
// the tablet trades it for a device secret once; neither the code nor the
// secret is stored, only their SHA-256; a code works only for its centre,
// once, within a day, and not after a revocation; a revoked kiosk's secret
// still names it (so the tablet can be told) but it is marked revoked;
// every change has its audit row.
func TestKioskEnrolAndRevoke(t *testing.T) {
	start := time.Date(2026, 3, 4, 3, 0, 0, 0, time.UTC)
	clock := &testClock{t: start}
	eachBackendRaw(t, clock.now, func(t *testing.T, st *store.Store, raw *gorm.DB) {
		clock.add(start.Sub(clock.now())) // each backend starts on the same day
		ctx := context.Background()
		centres, err := st.Centres(ctx, "26740")
		if err != nil || len(centres) == 0 {
			t.Fatalf("centres: %v %v", centres, err)
		}
		centre := centres[0]
		other, _ := st.Centres(ctx, "25747")
		for _, label := range []string{"", "   ", strings.Repeat("x", 101)} {
			if _, _, err := st.CreateKiosk(ctx, "xa@ubnd.vn", centre.ID, label); survey.ErrorCode(err) != survey.EINVALID {
				t.Errorf("label %q: got %v, want invalid", label, err)
			}
		}
		if _, _, err := st.CreateKiosk(ctx, "xa@ubnd.vn", 999999, "Quầy 1"); survey.ErrorCode(err) != survey.ENOTFOUND {
			t.Errorf("unknown centre: got %v, want not found", err)
		}
		k, code, err := st.CreateKiosk(ctx, "xa@ubnd.vn", centre.ID, " Quầy 1 ")
		if err != nil {
			t.Fatal(err)
		}
		if k.Label != "Quầy 1" || k.EnrolledAt != nil || k.CodeExpiresAt == nil || len(code) != 10 {
			t.Errorf("created kiosk: got %+v with code %q, want label trimmed, not enrolled, a code of 10 characters expiring", k, code)
		}
		if text := rawText(t, raw, "kiosks"); strings.Contains(text, code) || !strings.Contains(text, sha(code)) {
			t.Errorf("kiosks table: want the code's SHA-256 and never the code, got\n%s", text)
		}
		if _, _, err := st.EnrolKiosk(ctx, other[0].ID, code); survey.ErrorCode(err) != survey.EINVALID {
			t.Errorf("code at another centre: got %v, want invalid", err)
		}
		if _, _, err := st.EnrolKiosk(ctx, centre.ID, "wrongcode1"); survey.ErrorCode(err) != survey.EINVALID {
			t.Errorf("wrong code: got %v, want invalid", err)
		}
		enrolled, secret, err := st.EnrolKiosk(ctx, centre.ID, " "+strings.ToUpper(code)+" ")
		if err != nil {
			t.Fatalf("enrol with the code typed in capitals: %v", err)
		}
		if enrolled.ID != k.ID || enrolled.EnrolledAt == nil || enrolled.LastSeen != "2026-03-04" || len(secret) < 40 {
			t.Errorf("enrolled: got %+v, secret of %d characters", enrolled, len(secret))
		}
		if _, _, err := st.EnrolKiosk(ctx, centre.ID, code); survey.ErrorCode(err) != survey.EINVALID {
			t.Errorf("code used twice: got %v, want invalid", err)
		}
		if text := rawText(t, raw, "kiosks"); strings.Contains(text, secret) || strings.Contains(text, sha(code)) || !strings.Contains(text, sha(secret)) {
			t.Errorf("kiosks table after enrolment: want the secret's SHA-256 only, the code's hash gone, got\n%s", text)
		}
		got, err := st.KioskBySecret(ctx, secret)
		if err != nil || got.ID != k.ID || got.Revoked() {
			t.Errorf("by secret: got %+v, %v", got, err)
		}
		if _, err := st.KioskBySecret(ctx, secret+"x"); survey.ErrorCode(err) != survey.ENOTFOUND {
			t.Errorf("wrong secret: got %v, want not found", err)
		}

		// A code expires after a day; one revoked before use never works.
		_, late, _ := st.CreateKiosk(ctx, "xa@ubnd.vn", centre.ID, "Quầy 2")
		unused, early, _ := st.CreateKiosk(ctx, "xa@ubnd.vn", centre.ID, "Quầy 3")
		if _, err := st.RevokeKiosk(ctx, "xa@ubnd.vn", unused.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.EnrolKiosk(ctx, centre.ID, early); survey.ErrorCode(err) != survey.EINVALID {
			t.Errorf("revoked before use: got %v, want invalid", err)
		}
		clock.add(store.KioskCodeLifetime + time.Minute)
		if _, _, err := st.EnrolKiosk(ctx, centre.ID, late); survey.ErrorCode(err) != survey.EINVALID {
			t.Errorf("expired code: got %v, want invalid", err)
		}

		if err := st.TouchKiosk(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		revoked, err := st.RevokeKiosk(ctx, "admin@papi.vn", k.ID)
		if err != nil || !revoked.Revoked() || revoked.LastSeen != "2026-03-05" {
			t.Errorf("revoke: got %+v, %v; want revoked, last seen the next day", revoked, err)
		}
		if _, err := st.RevokeKiosk(ctx, "admin@papi.vn", k.ID); err != nil {
			t.Errorf("revoke again: %v", err)
		}
		if got, err := st.KioskBySecret(ctx, secret); err != nil || !got.Revoked() {
			t.Errorf("revoked secret: got %+v, %v; want the kiosk, revoked", got, err)
		}
		list, err := st.Kiosks(ctx, centre.ID)
		if err != nil || len(list) != 3 || list[0].Label != "Quầy 1" {
			t.Errorf("list: got %+v, %v", list, err)
		}
		for action, want := range map[string]int{"kiosk_create": 3, "kiosk_enrol": 1, "kiosk_revoke": 2} {
			log, err := st.AuditLog(ctx, store.AuditFilter{Action: action})
			if err != nil || len(log) != want {
				t.Errorf("audit %s: got %d rows (%v), want %d", action, len(log), err, want)
			}
		}
	})
}

// TestKioskScreening measures screening per device on both databases, in
// one batch and one response at a time. From 10:00 on a Wednesday a tablet
// serves 9 people, one every 2 minutes (90 s each, varied answers), while
// 31 phones answer at the same centre: no kiosk answer is flagged, and the
// phones' burst counts phones only (the 30th is not flagged, the 31st is).
// Then: a response that took 4 minutes, one minute after the previous one
// (two people at once), is a burst; 21 responses in 10 minutes from one
// tablet that does not say how long they took flag from the 21st; the same
// answers from the tablet pass twice and are flagged the third time (the
// same answers from a phone do not count); 20 answers in 10 s are too fast.
func TestKioskScreening(t *testing.T) {
	at := time.Date(2026, 3, 4, 10, 0, 0, 0, survey.Local)
	for _, batch := range []bool{false, true} {
		name := "one at a time"
		if batch {
			name = "in batches"
		}
		t.Run(name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, st *store.Store) {
				ctx := context.Background()
				cat := st.Catalogue()
				rng := rand.New(rand.NewPCG(11, 7))
				centres, _ := st.Centres(ctx, "26740")
				centre := centres[0]
				k, code, err := st.CreateKiosk(ctx, "test", centre.ID, "Quầy 1")
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := st.EnrolKiosk(ctx, centre.ID, code); err != nil {
					t.Fatal(err)
				}
				seq := 0
				submit := func(ins []store.NewResponse) []bool {
					t.Helper()
					for i := range ins {
						seq++
						ins[i].SubmissionID = fmt.Sprintf("k-%05d", seq)
						ins[i].Centre, ins[i].Version = centre, cat.Version
					}
					var flagged []bool
					if batch {
						res, err := st.CreateResponses(ctx, ins)
						if err != nil {
							t.Fatal(err)
						}
						for _, r := range res {
							if r.Err != nil {
								t.Fatal(r.Err)
							}
							flagged = append(flagged, r.Flagged)
						}
						return flagged
					}
					for _, in := range ins {
						r := st.Submit(ctx, in)
						if r.Err != nil {
							t.Fatal(r.Err)
						}
						flagged = append(flagged, r.Flagged)
					}
					return flagged
				}
				varied := func() survey.Visit { return MustVisit(t, cat, rng, cat.AssignModules(rng.Uint64())) }
				kiosk := func(when time.Time, ms int64, v survey.Visit) store.NewResponse {
					return store.NewResponse{Visit: v, Channel: survey.ChannelKiosk, KioskID: k.ID, DurationMS: ms, At: when}
				}
				count := func(f []bool) int {
					n := 0
					for _, x := range f {
						if x {
							n++
						}
					}
					return n
				}

				var ins []store.NewResponse
				for i := 0; i < 9; i++ {
					ins = append(ins, kiosk(at.Add(time.Duration(2*i)*time.Minute), 90000, varied()))
				}
				if n := count(submit(ins)); n != 0 {
					t.Errorf("a busy tablet, one person every 2 minutes: %d of 9 flagged, want 0", n)
				}
				ins = nil
				for i := 0; i < 31; i++ {
					ins = append(ins, store.NewResponse{Visit: varied(), DurationMS: 120000, At: at.Add(time.Duration(i*15) * time.Second)})
				}
				phones := submit(ins)
				if count(phones[:30]) != 0 || !phones[30] {
					t.Errorf("phones beside the tablet: got %v, want the first 30 counted and the 31st a burst", phones)
				}

				// Two people at once: 4 minutes of answers one minute after
				// the previous response.
				if f := submit([]store.NewResponse{kiosk(at.Add(17*time.Minute), 240000, varied())}); !f[0] {
					t.Error("a 4-minute response one minute after the previous one: not flagged")
				}

				// More than a queue: a fresh tablet sends 21 in 10 minutes.
				k2, code2, _ := st.CreateKiosk(ctx, "test", centre.ID, "Quầy 2")
				if _, _, err := st.EnrolKiosk(ctx, centre.ID, code2); err != nil {
					t.Fatal(err)
				}
				later := at.Add(2 * time.Hour)
				ins = nil
				for i := 0; i < 21; i++ {
					r := kiosk(later.Add(time.Duration(i*28)*time.Second), 0, varied())
					r.KioskID = k2.ID
					ins = append(ins, r)
				}
				fast := submit(ins)
				if count(fast[:20]) != 0 || !fast[20] {
					t.Errorf("21 responses in 10 minutes from one tablet: got %v, want the 21st flagged only", fast)
				}

				// The same answers, two minutes apart, from the first tablet;
				// the same answers from a phone before do not count.
				same := varied()
				submit([]store.NewResponse{{Visit: same, DurationMS: 120000, At: at.Add(3*time.Hour - 5*time.Minute)}})
				ins = nil
				for i := 0; i < 3; i++ {
					ins = append(ins, kiosk(at.Add(3*time.Hour+time.Duration(2*i)*time.Minute), 90000, same))
				}
				if got := submit(ins); !slices.Equal(got, []bool{false, false, true}) {
					t.Errorf("the same answers three times: got %v, want the third flagged", got)
				}
				if f := submit([]store.NewResponse{kiosk(at.Add(4*time.Hour), 10000, varied())}); !f[0] {
					t.Error("10 s for a whole visit: not flagged")
				}
				r, err := st.ResponseBySubmission(ctx, "k-00001")
				if err != nil || r.KioskID != k.ID || r.Channel != survey.ChannelKiosk {
					t.Errorf("stored kiosk response: got kiosk %d channel %q (%v), want kiosk %d", r.KioskID, r.Channel, err, k.ID)
				}
			})
		})
	}
}

// TestKioskOnlyForKioskChannel: a kiosk id on a phone's answers is refused.
func TestKioskOnlyForKioskChannel(t *testing.T) {
	st := MustOpen(t, "sqlite", time.Now)
	ctx := context.Background()
	cat := st.Catalogue()
	centres, _ := st.Centres(ctx, "26740")
	v := MustVisit(t, cat, rand.New(rand.NewPCG(1, 2)), cat.AssignModules(0))
	r := st.Submit(ctx, store.NewResponse{SubmissionID: "qr-with-kiosk", Centre: centres[0], Version: cat.Version, Visit: v, KioskID: 1, DurationMS: 90000})
	if survey.ErrorCode(r.Err) != survey.EINVALID {
		t.Errorf("qr answers with a kiosk id: got %v, want invalid", r.Err)
	}
}

// TestKioskSimulation measures the per-device rules on a week of organic
// traffic at one tablet in each of 20 centres: 10 to 60 people a day each
// wait for the tablet, answer at 4 to 10 seconds an answer and leave it 5
// to 60 seconds before the next one starts; one in six taps the same
// "satisfied with everything" answers (the same for the same modules).
// Two campaigns run through enrolled tablets: an insider at a kiosk sends
// the same answers 30 times back to back with believable durations, and a
// script with a stolen device secret posts varied answers with believable
// durations every 20 seconds. It logs the share of each flagged, and how
// many organic answers the phones' repeated-answer limit (2) would have
// flagged at a kiosk instead of KioskDuplicateLimit (3).
func TestKioskSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("a week of kiosk traffic at 20 centres, one submission at a time")
	}
	st := MustOpen(t, "sqlite", time.Now)
	ctx := context.Background()
	cat := st.Catalogue()
	rng := rand.New(rand.NewPCG(2026, 12))
	centres, _ := st.AllCentres(ctx)
	centres = centres[:20]
	kiosks := make([]uint, len(centres))
	for i, c := range centres {
		_, code, err := st.CreateKiosk(ctx, "test", c.ID, "Quầy 1")
		if err != nil {
			t.Fatal(err)
		}
		k, _, err := st.EnrolKiosk(ctx, c.ID, code)
		if err != nil {
			t.Fatal(err)
		}
		kiosks[i] = k.ID
	}
	type sub struct {
		kind     string
		centre   int
		at       time.Time
		duration int64
		visit    survey.Visit
	}
	satisfied := func(modules []string) survey.Visit {
		return MustVisit(t, cat, rand.New(rand.NewPCG(6, 6)), modules)
	}
	var subs []sub
	start := time.Date(2026, 5, 4, 0, 0, 0, 0, survey.Local) // a Monday
	for d := 0; d < 7; d++ {
		day := start.AddDate(0, 0, d)
		if day.Weekday() == time.Sunday {
			continue
		}
		for ci := range centres {
			n := 10 + rng.IntN(51)
			arrivals := make([]time.Duration, n)
			for i := range arrivals {
				arrivals[i] = 7*time.Hour + 30*time.Minute + time.Duration(rng.IntN(int(9.5*3600)))*time.Second
			}
			slices.Sort(arrivals)
			free := day
			for _, a := range arrivals {
				begin := day.Add(a)
				if begin.Before(free) {
					begin = free // waits for the person before
				}
				modules := cat.AssignModules(rng.Uint64())
				v := MustVisit(t, cat, rng, modules)
				kind := "organic"
				if rng.IntN(6) == 0 {
					v, kind = satisfied(modules), "organic-same"
				}
				took := time.Duration((4+rng.Float64()*6)*1000*float64(len(v.Answers))) * time.Millisecond
				sent := begin.Add(took)
				subs = append(subs, sub{kind, ci, sent, took.Milliseconds(), v})
				free = sent.Add(time.Duration(5+rng.IntN(56)) * time.Second)
			}
		}
	}
	// The insider: the same answers 30 times from 12:00, each taking 70 s.
	insider := satisfied(cat.AssignModules(3))
	for i := 0; i < 30; i++ {
		subs = append(subs, sub{"insider", 5, start.AddDate(0, 0, 2).Add(12*time.Hour + time.Duration(i*75)*time.Second), 70000, insider})
	}
	// The script: varied answers every 20 s, each claiming 2 minutes.
	for i := 0; i < 60; i++ {
		subs = append(subs, sub{"script", 9, start.AddDate(0, 0, 3).Add(14*time.Hour + time.Duration(i*20)*time.Second), 120000, MustVisit(t, cat, rng, cat.AssignModules(uint64(i)))})
	}
	slices.SortStableFunc(subs, func(a, b sub) int { return a.at.Compare(b.at) })

	total, caught := map[string]int{}, map[string]int{}
	strict := 0 // organic answers the phones' limit would flag
	seen := map[string][]time.Time{}
	for i, s := range subs {
		id := fmt.Sprintf("ks-%06d", i)
		r := st.Submit(ctx, store.NewResponse{SubmissionID: id, Centre: centres[s.centre], Version: cat.Version, Visit: s.visit,
			DurationMS: s.duration, At: s.at, Channel: survey.ChannelKiosk, KioskID: kiosks[s.centre]})
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		kind := s.kind
		if kind == "organic-same" {
			kind = "organic"
		}
		total[kind]++
		if r.Flagged {
			caught[kind]++
		}
		key := fmt.Sprint(s.centre) + survey.Fingerprint(s.visit.Answers)
		earlier := 0
		for _, at := range seen[key] {
			if s.at.Truncate(time.Minute).Sub(at.Truncate(time.Minute)) < survey.DuplicateWindow {
				earlier++
			}
		}
		if kind == "organic" && earlier >= survey.DuplicateLimit {
			strict++
		}
		seen[key] = append(seen[key], s.at)
	}
	share := func(kind string) float64 { return float64(caught[kind]) / float64(total[kind]) }
	for _, k := range []string{"organic", "insider", "script"} {
		t.Logf("%-8s %5d responses, %4d flagged (%.1f%%)", k, total[k], caught[k], 100*share(k))
	}
	t.Logf("organic answers with %d or more identical earlier ones from their tablet within the hour (the phones' limit): %d (%.1f%%)",
		survey.DuplicateLimit, strict, 100*float64(strict)/float64(total["organic"]))
	if share("organic") > 0.02 {
		t.Errorf("organic kiosk answers wrongly flagged: got %.1f%%, want at most 2%%", 100*share("organic"))
	}
	if share("insider") < 0.85 {
		t.Errorf("insider repeating answers at a kiosk caught: got %.1f%%, want at least 85%%", 100*share("insider"))
	}
	if share("script") < 0.9 {
		t.Errorf("script with a kiosk secret caught: got %.1f%%, want at least 90%%", 100*share("script"))
	}
}
