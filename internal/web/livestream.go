package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// heartbeat keeps idle event streams open through proxies that close silent connections.
const heartbeat = 20 * time.Second

// liveStream is the server-sent events stream of committed changes that open pages follow: each event is
// "change" with a JSON change ({"k":"message","c":conversation,"m":message}); a change of kind "reset" means
// changes were lost and the page should redraw what it shows.
func (h *Handler) liveStream(w http.ResponseWriter, r *http.Request, s *Session) error {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	sub := h.o.Live.Subscribe()
	defer sub.Close()
	write := func(format string, args ...any) error {
		// The server's write timeout would end the stream: each write gets its own deadline.
		_ = rc.SetWriteDeadline(time.Now().Add(heartbeat + 10*time.Second))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := write("retry: 2000\n: connected\n\n"); err != nil {
		return nil
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-tick.C:
			if err := write(": ping\n\n"); err != nil {
				return nil
			}
		case c := <-sub.C:
			b, err := json.Marshal(c)
			if err != nil {
				return nil
			}
			if err := write("event: change\ndata: %s\n\n", b); err != nil {
				return nil
			}
		}
	}
}
