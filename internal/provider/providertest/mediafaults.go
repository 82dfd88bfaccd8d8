package providertest

import (
	"bytes"
	"net/http"
	"sync"
	"time"
)

// LookupPenaltyLimit is how many failed media lookups 360dialog's Cloud API allows a number within an hour;
// after more, it blocks the lookup endpoint of the number for an hour (docs/provider-api.md §1.2 item 5).
const LookupPenaltyLimit = 5

// mediaFaults are the media misbehaviours of the fake beyond Fault: expired download URLs and 360dialog's
// penalty for failed lookups.
type mediaFaults struct {
	mu          sync.Mutex
	expireNext  int
	failed      []time.Time // failed lookups (360dialog)
	failedTotal int
	blockedTill time.Time
	blocked     int // lookups refused because of the penalty
}

// AddMediaWithDigest makes media id downloadable like AddMedia, but announces sha256 as its digest in the
// lookup answer: a digest that does not match the bytes simulates a damaged download.
func (s *Server) AddMediaWithDigest(id string, data []byte, mimeType, sha256 string) {
	f := &MediaFile{ID: id, Data: bytes.Clone(data), MimeType: mimeType, SHA256: sha256, At: s.opts.Now()}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.media[id] = f
}

// ExpireNextMediaURLs makes the next n media lookups answer download URLs that have already expired, as if the
// client had taken more than 5 minutes between the lookup and the download.
func (s *Server) ExpireNextMediaURLs(n int) {
	s.mf.mu.Lock()
	defer s.mf.mu.Unlock()
	s.mf.expireNext = n
}

// FailedLookups returns how many media lookups failed (unknown media id) and how many were refused by the
// penalty (360dialog Cloud only; 0 otherwise).
func (s *Server) FailedLookups() (failed, blocked int) {
	s.mf.mu.Lock()
	defer s.mf.mu.Unlock()
	return s.mf.failedTotal, s.mf.blocked
}

// takeExpired reports whether the URL of this lookup must be expired already.
func (s *Server) takeExpired() bool {
	s.mf.mu.Lock()
	defer s.mf.mu.Unlock()
	if s.mf.expireNext > 0 {
		s.mf.expireNext--
		return true
	}
	return false
}

// penalised answers and returns true when 360dialog's penalty blocks this lookup.
func (s *Server) penalised(w http.ResponseWriter) bool {
	if s.opts.Kind != Kind360Dialog {
		return false
	}
	s.mf.mu.Lock()
	defer s.mf.mu.Unlock()
	if s.opts.Now().Before(s.mf.blockedTill) {
		s.mf.blocked++
		writeGateway(w, http.StatusBadRequest, "Too many failed media lookups: the endpoint is blocked for this number for one hour")
		return true
	}
	return false
}

// lookupFailed counts a failed lookup; the sixth within an hour starts 360dialog's penalty.
func (s *Server) lookupFailed() {
	if s.opts.Kind != Kind360Dialog {
		return
	}
	s.mf.mu.Lock()
	defer s.mf.mu.Unlock()
	now := s.opts.Now()
	recent := s.mf.failed[:0]
	for _, t := range s.mf.failed {
		if now.Sub(t) < time.Hour {
			recent = append(recent, t)
		}
	}
	s.mf.failed = append(recent, now)
	s.mf.failedTotal++
	if len(s.mf.failed) > LookupPenaltyLimit {
		s.mf.blockedTill = now.Add(time.Hour)
	}
}
