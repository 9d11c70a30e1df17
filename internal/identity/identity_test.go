package identity

import (
	"reflect"
	"testing"
)

// TestTableCoversUser: every field of User is in the table once, and
// Equal tells each one apart, so a field added to User without its row
// (or without Equal) fails here.
func TestTableCoversUser(t *testing.T) {
	typ := reflect.TypeFor[User]()
	if typ.NumField() != NumFields {
		t.Fatalf("User has %d fields, the table %d", typ.NumField(), NumFields)
	}
	seen := map[string]bool{}
	for i := range typ.NumField() {
		var u User
		v := reflect.ValueOf(&u).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Slice:
			v.Set(reflect.ValueOf([]string{"x"}))
		}
		var zero User
		if u.Equal(&zero) {
			t.Errorf("Equal ignores %s", typ.Field(i).Name)
		}
		read := 0
		for j := range Fields {
			f := &Fields[j]
			if f.Value != nil && f.Value(&u) == "x" || f.List != nil && len(f.List(&u)) == 1 {
				read++
				if seen[f.Key] {
					t.Errorf("row %s reads two fields", f.Key)
				}
				seen[f.Key] = true
			}
		}
		if read != 1 {
			t.Errorf("%s is read by %d rows of the table, want 1", typ.Field(i).Name, read)
		}
	}
}

func TestLookups(t *testing.T) {
	for i, f := range Fields {
		if j, ok := Lookup(f.Key); !ok || j != i {
			t.Errorf("Lookup(%q) = %d %v", f.Key, j, ok)
		}
		if j, ok := ByPlaceholder(f.Placeholder); !ok || j != i {
			t.Errorf("ByPlaceholder(%q) = %d %v", f.Placeholder, j, ok)
		}
		if (f.Value == nil) == (f.List == nil) {
			t.Errorf("row %s must have exactly one of Value and List", f.Key)
		}
	}
	if _, ok := Lookup("jwt"); ok {
		t.Error("jwt is not an identity field")
	}
}

// TestProjectionsOmitEmpty: claims leave out what is unset, /userinfo
// shows every key with lists as arrays.
func TestProjectionsOmitEmpty(t *testing.T) {
	u := &User{UserID: "corp:1", Provider: "corp"}
	c := u.Claims()
	if len(c) != 1 || c["provider"] != "corp" {
		t.Errorf("claims %v", c)
	}
	j := u.JSON()
	if len(j) != NumFields {
		t.Errorf("userinfo %v", j)
	}
	if l, ok := j["connections"].([]string); !ok || l == nil {
		t.Errorf("connections = %#v, want an empty array", j["connections"])
	}
}
