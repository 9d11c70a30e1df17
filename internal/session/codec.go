package session

import (
	"encoding/binary"
	"errors"
	"time"
)

// codecVersion starts a session encoded by MarshalBinary; a stored JSON
// session (written before it, or by an older instance) starts with '{'
// and is still read (see sealed.Store), and so is version 1 (before the
// fields of the user's list of sessions were added at the end of their
// kinds).
const codecVersion = 2

// v1Strings and v1Times are how many strings and times version 1 held.
const (
	v1Strings = 10
	v1Lists   = 3
	v1Times   = 6
)

// errCodec is any session encoding that does not decode.
var errCodec = errors.New("session: malformed binary encoding")

// MarshalBinary encodes s compactly (a session is decoded on every
// request the in-process cache does not answer): the version, then every
// field in a fixed order, strings and lists length-prefixed, times as
// seconds and nanoseconds (zero as a single 0).
func (s *Session) MarshalBinary() ([]byte, error) {
	n := 64
	for _, v := range s.strings() {
		n += len(*v) + 2
	}
	for _, l := range s.lists() {
		for _, v := range *l {
			n += len(v) + 2
		}
	}
	b := make([]byte, 1, n)
	b[0] = codecVersion
	for _, v := range s.strings() {
		b = binary.AppendUvarint(b, uint64(len(*v)))
		b = append(b, *v...)
	}
	for _, l := range s.lists() {
		b = binary.AppendUvarint(b, uint64(len(*l)))
		for _, v := range *l {
			b = binary.AppendUvarint(b, uint64(len(v)))
			b = append(b, v...)
		}
	}
	for _, t := range s.times() {
		if t.IsZero() {
			b = append(b, 0)
			continue
		}
		b = append(b, 1)
		b = binary.AppendVarint(b, t.Unix())
		b = binary.AppendUvarint(b, uint64(t.Nanosecond()))
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary encoded into s.
func (s *Session) UnmarshalBinary(b []byte) error {
	if len(b) == 0 || b[0] < 1 || b[0] > codecVersion {
		return errCodec
	}
	strs, lists, times := s.strings(), s.lists(), s.times()
	if b[0] == 1 {
		*s = Session{}
		strs, lists, times = strs[:v1Strings], lists[:v1Lists], times[:v1Times]
	}
	// One string for all: every field is a substring of it.
	d := decoder{b: string(b[1:])}
	for _, v := range strs {
		*v = d.string()
	}
	for _, l := range lists {
		n := d.uvarint()
		if n > uint64(len(d.b)) { // each entry takes a byte at least
			return errCodec
		}
		*l = nil
		if n > 0 {
			*l = make([]string, n)
			for i := range *l {
				(*l)[i] = d.string()
			}
		}
	}
	for _, t := range times {
		*t = d.time()
	}
	if d.err || d.b != "" {
		return errCodec
	}
	return nil
}

// The fields of a Session by kind, in their encoding order. A field added
// to Session or identity.User must be added at the end of its kind, with
// a new codecVersion whose decoding still reads the previous one
// (TestCodecEncodesEveryField fails until it is encoded).
func (s *Session) strings() []*string {
	return []*string{&s.UserID, &s.Login, &s.Email, &s.Name, &s.Avatar, &s.Provider, &s.Host,
		&s.AccessToken, &s.RefreshToken, &s.IDToken,
		&s.IP, &s.UserAgent, &s.IdPSession}
}

func (s *Session) lists() []*[]string {
	return []*[]string{&s.Groups, &s.Repos, &s.Connections, &s.Claims}
}

func (s *Session) times() []*time.Time {
	return []*time.Time{&s.CheckedAt, &s.CreatedAt, &s.ExpiresAt, &s.TokenExpiry, &s.TokenIssued, &s.TokenRetryAt,
		&s.LastSeenAt}
}

// decoder reads MarshalBinary's encoding; err records the first problem.
type decoder struct {
	b   string
	err bool
}

func (d *decoder) fail() { d.err, d.b = true, "" }

func (d *decoder) uvarint() uint64 {
	var v uint64
	for i := 0; i < len(d.b) && i < binary.MaxVarintLen64; i++ {
		c := d.b[i]
		v |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				break // overflow
			}
			d.b = d.b[i+1:]
			return v
		}
	}
	d.fail()
	return 0
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) time() time.Time {
	if d.b == "" {
		d.fail()
		return time.Time{}
	}
	set := d.b[0]
	d.b = d.b[1:]
	if set == 0 {
		return time.Time{}
	}
	u := d.uvarint()
	sec := int64(u >> 1) // zigzag, as binary.AppendVarint writes it
	if u&1 != 0 {
		sec = ^sec
	}
	nsec := d.uvarint()
	if set != 1 || nsec >= 1e9 {
		d.fail()
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}
