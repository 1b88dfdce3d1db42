package store_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/store/storetest"
	"github.com/papi-hcmc/papi/survey"
)

// MustOpenRaw is MustOpen that also returns a second, plain connection to
// the same database, for tests that must reach under the store.
func MustOpenRaw(t *testing.T, backend string, opt store.Options) (*store.Store, *gorm.DB) {
	t.Helper()
	db := storetest.MustSeeded(t, backend, opt)
	return db.Store, storetest.MustRaw(t, db.DSN)
}

// eachBackendRaw is eachBackend with MustOpenRaw.
func eachBackendRaw(t *testing.T, now func() time.Time, fn func(t *testing.T, st *store.Store, raw *gorm.DB)) {
	for _, b := range backends(t) {
		t.Run(b, func(t *testing.T) {
			st, raw := MustOpenRaw(t, b, store.Options{Now: now})
			fn(t, st, raw)
		})
	}
}

func TestUsersAndSessions(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u, err := st.CreateUser(ctx, "cli", survey.User{Email: " Officer@UBND.gov.vn ", Role: survey.RoleCommune, CommuneCode: "26740"}, "mật khẩu dài đủ")
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "officer@ubnd.gov.vn" {
			t.Errorf("email: got %q, want it lower-cased and trimmed", u.Email)
		}
		cases := []struct {
			name     string
			user     survey.User
			password string
			want     string
		}{
			{"duplicate email", survey.User{Email: "officer@ubnd.gov.vn", Role: survey.RoleAdmin}, "another long one", survey.ECONFLICT},
			{"short password", survey.User{Email: "a@b.vn", Role: survey.RoleAdmin}, "short", survey.EINVALID},
			{"password over 256 bytes", survey.User{Email: "a@b.vn", Role: survey.RoleAdmin}, strings.Repeat("ư", 129), survey.EINVALID},
			{"commune role without commune", survey.User{Email: "c@b.vn", Role: survey.RoleCommune}, "long enough pw", survey.EINVALID},
			{"unknown commune", survey.User{Email: "d@b.vn", Role: survey.RoleCommune, CommuneCode: "99999"}, "long enough pw", survey.ENOTFOUND},
			{"issuer of an unknown commune", survey.User{Email: "i@b.vn", Role: survey.RoleIssuer, CommuneCode: "99999"}, "long enough pw", survey.ENOTFOUND},
			{"bad role", survey.User{Email: "e@b.vn", Role: "mayor"}, "long enough pw", survey.EINVALID},
			{"bad email", survey.User{Email: "not-an-email", Role: survey.RoleAdmin}, "long enough pw", survey.EINVALID},
		}
		for _, tc := range cases {
			if _, err := st.CreateUser(ctx, "cli", tc.user, tc.password); survey.ErrorCode(err) != tc.want {
				t.Errorf("%s: got %v, want %s", tc.name, err, tc.want)
			}
		}
		if _, err := st.CreateUser(ctx, "cli", survey.User{Email: "mc@onestop.vn", Role: survey.RoleIssuer}, "long enough pw"); err != nil {
			t.Errorf("city-wide issuer account: %v", err)
		}
		if _, _, err := st.Login(ctx, "officer@ubnd.gov.vn", "wrong password"); survey.ErrorCode(err) != survey.EUNAUTHORIZED {
			t.Errorf("wrong password: got %v, want unauthorized", err)
		}
		if _, _, err := st.Login(ctx, "nobody@ubnd.gov.vn", "mật khẩu dài đủ"); survey.ErrorCode(err) != survey.EUNAUTHORIZED {
			t.Errorf("unknown email: got %v, want unauthorized", err)
		}
		token, lu, err := st.Login(ctx, "OFFICER@ubnd.gov.vn", "mật khẩu dài đủ")
		if err != nil || lu.ID != u.ID {
			t.Fatalf("login: got %v, %v", lu, err)
		}
		su, err := st.UserBySession(ctx, token)
		if err != nil || su.CommuneCode != "26740" || su.Role != survey.RoleCommune {
			t.Fatalf("session: got %+v, %v", su, err)
		}
		if err := st.Logout(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := st.UserBySession(ctx, token); survey.ErrorCode(err) != survey.EUNAUTHORIZED {
			t.Errorf("after logout: got %v, want unauthorized", err)
		}
		log, _ := st.AuditLog(ctx, store.AuditFilter{})
		var got []string
		for _, e := range log {
			got = append(got, e.Actor+" "+e.Action+" "+e.Target)
		}
		want := []string{"officer@ubnd.gov.vn login ", "cli user_create mc@onestop.vn (issuer)", "cli user_create officer@ubnd.gov.vn (commune 26740)"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("audit log: got %q, want %q", got, want)
		}
	})
}

// TestSessionLimits: a session ends after its lifetime, and sooner when it
// is not used for SessionIdle; using it keeps it alive (closes M8's idle
// timeout).
func TestSessionLimits(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := MustOpen(t, "sqlite", clock)
	ctx := context.Background()
	if _, err := st.CreateUser(ctx, "cli", survey.User{Email: "a@sonoivu.gov.vn", Role: survey.RoleDepartment}, "long enough pw"); err != nil {
		t.Fatal(err)
	}
	login := func() string {
		token, _, err := st.Login(ctx, "a@sonoivu.gov.vn", "long enough pw")
		if err != nil {
			t.Fatal(err)
		}
		return token
	}
	alive := func(token string) bool {
		_, err := st.UserBySession(ctx, token)
		if err != nil && survey.ErrorCode(err) != survey.EUNAUTHORIZED {
			t.Fatal(err)
		}
		return err == nil
	}
	busy := login()
	idle := login()
	// The busy session is used every 50 minutes for 11 hours 40 minutes;
	// the idle one is not touched after the first 50 minutes.
	for i := 0; i < 14; i++ {
		now = now.Add(50 * time.Minute)
		if !alive(busy) {
			t.Fatalf("session used every 50 minutes ended after %v", time.Duration(i+1)*50*time.Minute)
		}
		if i == 0 && !alive(idle) {
			t.Fatal("idle session ended after 50 minutes, before SessionIdle")
		}
	}
	if alive(idle) {
		t.Error("session unused for hours is still alive; want it ended after SessionIdle")
	}
	now = now.Add(store.SessionLifetime - 14*50*time.Minute + time.Minute)
	if alive(busy) {
		t.Error("session is alive after SessionLifetime; want it ended")
	}
}

// TestAccountLifeCycle closes M8 in the store: disabling ends every session
// at once and refuses the login; enabling lets it in again; a new password
// ends the other sessions; revocation ends them all; each is audited.
func TestAccountLifeCycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		u, err := st.CreateUser(ctx, "cli", survey.User{Email: "xa@ubnd.vn", Role: survey.RoleCommune, CommuneCode: "26740"}, "first password")
		if err != nil {
			t.Fatal(err)
		}
		login := func(pw string) (string, error) {
			token, _, err := st.Login(ctx, "xa@ubnd.vn", pw)
			return token, err
		}
		code := func(token string) string {
			_, err := st.UserBySession(ctx, token)
			if err == nil {
				return "ok"
			}
			return survey.ErrorCode(err)
		}
		yes, no := true, false
		a, _ := login("first password")
		b, _ := login("first password")

		if got, err := st.UpdateUser(ctx, "admin@x.vn", u.ID, survey.UserUpdate{Disabled: &yes}, ""); err != nil || !got.Disabled {
			t.Fatalf("disable: got %+v, %v", got, err)
		}
		if code(a) != survey.EUNAUTHORIZED || code(b) != survey.EUNAUTHORIZED {
			t.Errorf("sessions after disabling: got %s and %s, want both ended", code(a), code(b))
		}
		if _, err := login("first password"); survey.ErrorCode(err) != survey.EFORBIDDEN {
			t.Errorf("login to a disabled account: got %v, want forbidden", err)
		}
		if _, err := login("wrong password"); survey.ErrorCode(err) != survey.EUNAUTHORIZED {
			t.Errorf("wrong password on a disabled account: got %v, want unauthorized (nothing revealed)", err)
		}
		if _, err := st.UpdateUser(ctx, "admin@x.vn", u.ID, survey.UserUpdate{Disabled: &no}, ""); err != nil {
			t.Fatal(err)
		}
		a, err = login("first password")
		if err != nil {
			t.Fatalf("login after enabling: %v", err)
		}
		b, _ = login("first password")

		pw := "second password"
		if _, err := st.UpdateUser(ctx, "xa@ubnd.vn", u.ID, survey.UserUpdate{Password: &pw}, a); err != nil {
			t.Fatal(err)
		}
		if code(a) != "ok" || code(b) != survey.EUNAUTHORIZED {
			t.Errorf("after a password change from session a: got a=%s b=%s, want a kept and b ended", code(a), code(b))
		}
		if _, err := login("first password"); survey.ErrorCode(err) != survey.EUNAUTHORIZED {
			t.Errorf("old password: got %v, want unauthorized", err)
		}
		c, err := login("second password")
		if err != nil {
			t.Fatalf("new password: %v", err)
		}
		if n, err := st.RevokeSessions(ctx, "admin@x.vn", u.ID); err != nil || n != 2 {
			t.Errorf("revoke: got %d, %v, want 2 sessions ended", n, err)
		}
		if code(a) != survey.EUNAUTHORIZED || code(c) != survey.EUNAUTHORIZED {
			t.Errorf("after revocation: got a=%s c=%s, want both ended", code(a), code(c))
		}

		short := "short"
		for _, tc := range []struct {
			name string
			id   uint
			upd  survey.UserUpdate
			want string
		}{
			{"nothing to change", u.ID, survey.UserUpdate{}, survey.EINVALID},
			{"short password", u.ID, survey.UserUpdate{Password: &short}, survey.EINVALID},
			{"unknown account", 99999, survey.UserUpdate{Disabled: &yes}, survey.ENOTFOUND},
		} {
			if _, err := st.UpdateUser(ctx, "admin@x.vn", tc.id, tc.upd, ""); survey.ErrorCode(err) != tc.want {
				t.Errorf("%s: got %v, want %s", tc.name, err, tc.want)
			}
		}
		if _, err := st.RevokeSessions(ctx, "admin@x.vn", 99999); survey.ErrorCode(err) != survey.ENOTFOUND {
			t.Errorf("revoke for an unknown account: got %v, want not_found", err)
		}
		if _, err := login("second password"); err != nil {
			t.Errorf("refused updates changed the account: %v", err)
		}
		log, _ := st.AuditLog(ctx, store.AuditFilter{Actor: "admin@x.vn"})
		var actions []string
		for _, e := range log {
			actions = append(actions, e.Action+" "+e.Target)
		}
		want := []string{"sessions_revoke xa@ubnd.vn (commune 26740): 2", "user_enable xa@ubnd.vn (commune 26740)", "user_disable xa@ubnd.vn (commune 26740)"}
		if strings.Join(actions, "|") != strings.Join(want, "|") {
			t.Errorf("admin's audit rows: got %q, want %q", actions, want)
		}
		if log, _ := st.AuditLog(ctx, store.AuditFilter{Action: "user_password"}); len(log) != 1 || log[0].Actor != "xa@ubnd.vn" {
			t.Errorf("password change audit: got %+v, want one row by xa@ubnd.vn", log)
		}
		if got, err := st.UserByEmail(ctx, " XA@ubnd.vn"); err != nil || got.ID != u.ID {
			t.Errorf("UserByEmail: got %+v, %v", got, err)
		}
	})
}

// TestExpiredSessionsPurged closes L11: a login deletes sessions that have
// expired or gone idle, anyone's.
func TestExpiredSessionsPurged(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	eachBackendRaw(t, func() time.Time { return now }, func(t *testing.T, st *store.Store, raw *gorm.DB) {
		ctx := context.Background()
		for _, e := range []string{"a@x.vn", "b@x.vn"} {
			if _, err := st.CreateUser(ctx, "cli", survey.User{Email: e, Role: survey.RoleAdmin}, "long enough pw"); err != nil {
				t.Fatal(err)
			}
		}
		sessions := func() int64 {
			var n int64
			if err := raw.Table("sessions").Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		for i := 0; i < 3; i++ {
			if _, _, err := st.Login(ctx, "a@x.vn", "long enough pw"); err != nil {
				t.Fatal(err)
			}
		}
		now = now.Add(store.SessionIdle + time.Minute)
		if n := sessions(); n != 3 {
			t.Fatalf("got %d session rows, want 3", n)
		}
		if _, _, err := st.Login(ctx, "b@x.vn", "long enough pw"); err != nil {
			t.Fatal(err)
		}
		if n := sessions(); n != 1 {
			t.Errorf("after a login: got %d session rows, want only the new one", n)
		}
	})
}

// TestAuditInTransaction: a change and its audit row commit together. With
// the audit table unwritable every change fails and leaves nothing behind.
func TestAuditInTransaction(t *testing.T) {
	eachBackendRaw(t, time.Now, func(t *testing.T, st *store.Store, raw *gorm.DB) {
		ctx := context.Background()
		u, err := st.CreateUser(ctx, "cli", survey.User{Email: "a@x.vn", Role: survey.RoleAdmin}, "long enough pw")
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := st.Login(ctx, "a@x.vn", "long enough pw")
		if err != nil {
			t.Fatal(err)
		}
		if err := raw.Exec("ALTER TABLE audit_log RENAME TO audit_log_away").Error; err != nil {
			t.Fatal(err)
		}
		yes := true
		pw := "another password"
		for name, change := range map[string]func() error{
			"create account": func() error {
				_, err := st.CreateUser(ctx, "cli", survey.User{Email: "b@x.vn", Role: survey.RoleAdmin}, "long enough pw")
				return err
			},
			"disable": func() error {
				_, err := st.UpdateUser(ctx, "cli", u.ID, survey.UserUpdate{Disabled: &yes}, "")
				return err
			},
			"password": func() error {
				_, err := st.UpdateUser(ctx, "cli", u.ID, survey.UserUpdate{Password: &pw}, "")
				return err
			},
			"revoke": func() error { _, err := st.RevokeSessions(ctx, "cli", u.ID); return err },
			"login":  func() error { _, _, err := st.Login(ctx, "a@x.vn", "long enough pw"); return err },
			"read event": func() error {
				return st.Audit(ctx, "a@x.vn", "export_summary_csv", "26740")
			},
		} {
			if err := change(); err == nil {
				t.Errorf("%s: succeeded without its audit row", name)
			}
		}
		if err := raw.Exec("ALTER TABLE audit_log_away RENAME TO audit_log").Error; err != nil {
			t.Fatal(err)
		}
		if _, err := st.UserByEmail(ctx, "b@x.vn"); survey.ErrorCode(err) != survey.ENOTFOUND {
			t.Errorf("the refused creation left an account: %v", err)
		}
		if got, err := st.UserBySession(ctx, token); err != nil || got.Disabled {
			t.Errorf("the refused disable/revoke changed the account or its session: %+v, %v", got, err)
		}
		if _, _, err := st.Login(ctx, "a@x.vn", "long enough pw"); err != nil {
			t.Errorf("the refused password change took effect: %v", err)
		}
	})
}

func TestAuditLog(t *testing.T) {
	var now time.Time
	eachBackendRaw(t, func() time.Time { return now }, func(t *testing.T, st *store.Store, _ *gorm.DB) {
		now = time.Date(2026, 3, 2, 8, 0, 10, 0, time.UTC)
		ctx := context.Background()
		for _, a := range []string{"action_0", "action_1", "action_2"} {
			if err := st.Audit(ctx, "admin@x.vn", a, "t"); err != nil {
				t.Fatal(err)
			}
		}
		// Repeated events share the row of their minute; a new minute or
		// another client starts a new row.
		for i := 0; i < 5; i++ {
			now = now.Add(5 * time.Second)
			if err := st.AuditRepeated(ctx, "admin@x.vn", "login_failed", "client aa", time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		_ = st.AuditRepeated(ctx, "admin@x.vn", "login_failed", "client bb", time.Minute)
		now = now.Add(time.Minute)
		_ = st.AuditRepeated(ctx, "admin@x.vn", "login_failed", "client aa", time.Minute)

		log, err := st.AuditLog(ctx, store.AuditFilter{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range log {
			got = append(got, e.Action+" "+e.Target+" ×"+strconv.FormatInt(e.Count, 10)+" "+e.At.UTC().Format("15:04:05"))
		}
		want := []string{
			"login_failed client aa ×1 08:01:00",
			"login_failed client bb ×1 08:00:00",
			"login_failed client aa ×5 08:00:00",
			"action_2 t ×1 08:00:10", "action_1 t ×1 08:00:10", "action_0 t ×1 08:00:10",
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("got %q, want %q", got, want)
		}
		older, _ := st.AuditLog(ctx, store.AuditFilter{Limit: 2, Before: log[3].ID})
		if len(older) != 2 || older[0].Action != "action_1" || older[1].Action != "action_0" {
			t.Errorf("page before action_2: got %+v, want action_1, action_0", older)
		}
		if only, _ := st.AuditLog(ctx, store.AuditFilter{Action: "action_1"}); len(only) != 1 {
			t.Errorf("filter by action: got %d rows, want 1", len(only))
		}
	})
}
