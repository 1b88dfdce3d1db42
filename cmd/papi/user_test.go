package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// TestUserCommands runs the account life cycle through run() as an operator
// would (closes M8 on the command line): add, passwd, disable, enable,
// revoke, list, each audited as "cli".
func TestUserCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "papi.db")
	env := func(k string) string {
		if k == "PAPI_DB" {
			return db
		}
		return ""
	}
	papi := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), args, env, strings.NewReader(stdin), &out, &out)
		return out.String(), err
	}
	ctx := context.Background()
	open := func() *store.Store {
		cats, _ := survey.Catalogues()
		st, err := store.Open(ctx, db, store.Options{Catalogues: cats})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	login := func(pw string) (string, error) {
		st := open()
		defer st.Close()
		token, _, err := st.Login(ctx, "xa@ubnd.vn", pw)
		return token, err
	}
	alive := func(token string) bool {
		st := open()
		defer st.Close()
		_, err := st.UserBySession(ctx, token)
		return err == nil
	}

	if out, err := papi("first password\n", "user", "add", "--email", "xa@ubnd.vn", "--role", "commune", "--commune", "26740"); err != nil || !strings.Contains(out, "created commune account xa@ubnd.vn") {
		t.Fatalf("user add: %q, %v", out, err)
	}
	token, err := login("first password")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := papi("second password\n", "user", "passwd", "--email", "XA@ubnd.vn"); err != nil || !strings.Contains(out, "new password") {
		t.Fatalf("user passwd: %q, %v", out, err)
	}
	if alive(token) {
		t.Error("session still alive after papi user passwd")
	}
	if _, err := login("first password"); survey.ErrorCode(err) != survey.EUNAUTHORIZED {
		t.Errorf("old password after passwd: got %v, want unauthorized", err)
	}
	token, err = login("second password")
	if err != nil {
		t.Fatalf("new password: %v", err)
	}
	if out, err := papi("", "user", "disable", "--email", "xa@ubnd.vn"); err != nil || !strings.Contains(out, "disabled xa@ubnd.vn") {
		t.Fatalf("user disable: %q, %v", out, err)
	}
	if alive(token) {
		t.Error("session still alive after papi user disable")
	}
	if _, err := login("second password"); survey.ErrorCode(err) != survey.EFORBIDDEN {
		t.Errorf("login to a disabled account: got %v, want forbidden", err)
	}
	if out, _ := papi("", "user", "list"); !strings.Contains(out, "xa@ubnd.vn\tcommune\t26740\tdisabled") {
		t.Errorf("user list: got %q, want the account marked disabled", out)
	}
	if _, err := papi("", "user", "enable", "--email", "xa@ubnd.vn"); err != nil {
		t.Fatal(err)
	}
	token, err = login("second password")
	if err != nil {
		t.Fatalf("login after enable: %v", err)
	}
	if out, err := papi("", "user", "revoke", "--email", "xa@ubnd.vn"); err != nil || !strings.Contains(out, "ended 1 session") {
		t.Fatalf("user revoke: %q, %v", out, err)
	}
	if alive(token) {
		t.Error("session still alive after papi user revoke")
	}

	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"user", "disable"}, "needs --email"},
		{"", []string{"user", "disable", "--email", "nobody@ubnd.vn"}, "not found"},
		{"short\n", []string{"user", "passwd", "--email", "xa@ubnd.vn"}, "at least 8 characters"},
		{"", []string{"user", "promote", "--email", "xa@ubnd.vn"}, "unknown subcommand"},
		{"", []string{"user", "disable", "--email", "xa@ubnd.vn", "--role", "admin"}, "belong to papi user add"},
		{"long enough pw\n", []string{"user", "add", "--email", "i@x.vn", "--role", "mayor"}, "role must be"},
	} {
		if _, err := papi(tc.stdin, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("papi %v: got %v, want an error saying %q", tc.args, err, tc.want)
		}
	}

	st := open()
	defer st.Close()
	log, _ := st.AuditLog(ctx, store.AuditFilter{Actor: "cli"})
	var got []string
	for _, e := range log {
		got = append(got, e.Action)
	}
	want := "sessions_revoke user_enable user_disable user_password user_create"
	if strings.Join(got, " ") != want {
		t.Errorf("audit rows by cli: got %q, want %q", strings.Join(got, " "), want)
	}
}
