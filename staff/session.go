package staff

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// sessionTTL is how long a console sign-in lasts: one working shift.
const sessionTTL = 12 * time.Hour

// maxSessions bounds the table so that a flood of sign-ins cannot exhaust
// memory; the oldest session goes first.
const maxSessions = 10000

// session is a signed-in console user. The cookie holds only id; the map
// is keyed by the id's SHA-256 so that a look-up's timing says nothing about
// the ids that exist.
type session struct {
	staff   staff
	csrf    string
	created time.Time
	expires time.Time
}

type sessions struct {
	mu  sync.Mutex
	m   map[[sha256.Size]byte]*session
	now func() time.Time
	ttl time.Duration
}

func newSessions(now func() time.Time, ttl time.Duration) *sessions {
	return &sessions{m: make(map[[sha256.Size]byte]*session), now: now, ttl: ttl}
}

// randomToken returns 32 random bytes, URL-safe base64.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics if the OS cannot supply)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session for who and returns its id.
func (s *sessions) create(who staff) (string, *session) {
	id := randomToken()
	now := s.now()
	sess := &session{staff: who, csrf: randomToken(), created: now, expires: now.Add(s.ttl)}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m {
		if !now.Before(v.expires) {
			delete(s.m, k)
		}
	}
	if len(s.m) >= maxSessions {
		var oldest [sha256.Size]byte
		var at time.Time
		for k, v := range s.m {
			if at.IsZero() || v.created.Before(at) {
				oldest, at = k, v.created
			}
		}
		delete(s.m, oldest)
	}
	s.m[sha256.Sum256([]byte(id))] = sess
	return id, sess
}

// get returns the live session with that id.
func (s *sessions) get(id string) (*session, bool) {
	if id == "" {
		return nil, false
	}
	k := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.m[k]
	if !ok {
		return nil, false
	}
	if !s.now().Before(sess.expires) {
		delete(s.m, k)
		return nil, false
	}
	return sess, true
}

func (s *sessions) end(id string) {
	s.mu.Lock()
	delete(s.m, sha256.Sum256([]byte(id)))
	s.mu.Unlock()
}

// sameToken compares two secrets in constant time.
func sameToken(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
