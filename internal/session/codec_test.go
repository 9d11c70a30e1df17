package session

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/identity"
)

// full is a session with every field set (fill checks that it is).
func full(t testing.TB) *Session {
	s := &Session{
		User: identity.User{UserID: "corp:1", Login: "al", Email: "al@example.com", Name: "Al ✓", Avatar: "https://a/x.png",
			Provider: "corp", Groups: []string{"acme", "acme/team"}, Repos: []string{"acme/app"}, Connections: []string{"jira"}},
		CheckedAt: time.Date(2026, 12, 7, 10, 0, 0, 123, time.UTC), Host: "app.example.com",
		CreatedAt: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC),
		AccessToken: "at", RefreshToken: "rt", IDToken: "idt",
		TokenExpiry: time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC), TokenIssued: time.Date(1960, 1, 1, 0, 0, 0, 999999999, time.UTC),
		TokenRetryAt: time.Date(2300, 1, 1, 0, 0, 0, 1, time.UTC),
		IP:           "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", IdPSession: "sid-1",
		LastSeenAt: time.Date(2026, 12, 7, 10, 30, 0, 0, time.UTC), Claims: []string{"ref=refs/heads/main"},
	}
	// Every exported field, the identity's included, must be set, so that
	// a field the codec forgets shows in the round trip below.
	var check func(v reflect.Value, path string)
	check = func(v reflect.Value, path string) {
		for i := 0; i < v.NumField(); i++ {
			f, ft := v.Field(i), v.Type().Field(i)
			switch {
			case !ft.IsExported():
			case ft.Anonymous:
				check(f, path+ft.Name+".")
			case f.IsZero():
				t.Fatalf("full() leaves %s%s unset: set it, and encode it in codec.go", path, ft.Name)
			}
		}
	}
	check(reflect.ValueOf(s).Elem(), "")
	return s
}

// Every field survives the binary encoding, and so does an empty session.
func TestCodecEncodesEveryField(t *testing.T) {
	for _, want := range []*Session{full(t), {}} {
		b, err := want.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		got := new(Session)
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
		}
	}
}

// A malformed encoding is an error, never a panic nor a partial session
// taken for a whole one.
func TestCodecRefusesMalformed(t *testing.T) {
	b, _ := full(t).MarshalBinary()
	for name, in := range map[string][]byte{
		"empty": nil, "JSON": []byte(`{"uid":"x"}`), "other version": append([]byte{codecVersion + 1}, b[1:]...),
		"version 0":     append([]byte{0}, b[1:]...),
		"trailing byte": append(append([]byte{}, b...), 0), "huge list": {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0x7f},
		"overlong varint": append([]byte{1}, []byte(strings.Repeat("\xff", 11))...),
	} {
		if err := new(Session).UnmarshalBinary(in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for i := range b {
		if err := new(Session).UnmarshalBinary(b[:i]); err == nil {
			t.Errorf("cut at %d of %d: accepted", i, len(b))
		}
	}
}

// A session encoded by version 1 (before IP, UserAgent, IdPSession and
// LastSeenAt) still decodes, into a session without them.
func TestCodecReadsVersion1(t *testing.T) {
	want := full(t)
	want.IP, want.UserAgent, want.IdPSession, want.LastSeenAt, want.Claims = "", "", "", time.Time{}, nil
	v1 := []byte{1}
	for _, v := range want.strings()[:v1Strings] {
		v1 = binary.AppendUvarint(v1, uint64(len(*v)))
		v1 = append(v1, *v...)
	}
	for _, l := range want.lists()[:v1Lists] {
		v1 = binary.AppendUvarint(v1, uint64(len(*l)))
		for _, v := range *l {
			v1 = binary.AppendUvarint(v1, uint64(len(v)))
			v1 = append(v1, v...)
		}
	}
	for _, tm := range want.times()[:v1Times] {
		v1 = append(v1, 1)
		v1 = binary.AppendVarint(v1, tm.Unix())
		v1 = binary.AppendUvarint(v1, uint64(tm.Nanosecond()))
	}
	got := full(t) // decoding must not keep what was there
	if err := got.UnmarshalBinary(v1); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("version 1:\n got %+v\nwant %+v", got, want)
	}
}

// Sessions stored as JSON (before the binary encoding, or by an older
// instance sharing the store) are still read, and written back binary.
func TestStoredJSONSessionStillLoads(t *testing.T) {
	m, _, mem := newManager(t, secret)
	ctx := context.Background()
	tok, err := m.Create(ctx, &Session{User: identity.User{UserID: "corp:1", Groups: []string{"g"}}})
	if err != nil {
		t.Fatal(err)
	}
	pt, _ := parseToken(m.ring, tok)
	key := m.key(pt)
	s, err := m.Load(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := json.Marshal(s)
	if err := mem.Set(ctx, key, m.ring.Seal(plain, []byte(key)), time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err := m.Load(ctx, tok)
	if err != nil || got.UserID != "corp:1" || len(got.Groups) != 1 {
		t.Fatalf("JSON session: %+v %v", got, err)
	}
	if err := m.Update(ctx, tok, got); err != nil {
		t.Fatal(err)
	}
	raw, _ := mem.Get(ctx, key, 0)
	if opened, err := m.ring.Open(raw, []byte(key)); err != nil || opened[0] != codecVersion {
		t.Fatalf("rewritten session is not binary: %v", err)
	}
}

// FuzzSessionCodec: UnmarshalBinary never panics, and what it accepts
// survives encoding again unchanged.
func FuzzSessionCodec(f *testing.F) {
	b, _ := full(f).MarshalBinary()
	e, _ := new(Session).MarshalBinary()
	f.Add(b)
	f.Add(e)
	f.Add([]byte{1, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		s := new(Session)
		if s.UnmarshalBinary(in) != nil {
			return
		}
		out, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		again := new(Session)
		if err := again.UnmarshalBinary(out); err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("re-encoding changed the session: %v", err)
		}
	})
}
