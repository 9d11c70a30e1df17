package webhook

import (
	"context"
	"encoding/json"
	"net/http"
)

// Receiver verifies and applies one delivery and returns the status to
// answer with.
type Receiver func(ctx context.Context, r *http.Request) int

// Serve is a webhook endpoint: POST only, the body's read bounded in time
// (Prepare), and the receiver's status answered (Answer).
func Serve(receive Receiver) func(w http.ResponseWriter, r *http.Request, rest string) {
	return func(w http.ResponseWriter, r *http.Request, _ string) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed"})
			return
		}
		Prepare(w)
		Answer(w, r, receive(r.Context(), r))
	}
}

// Answer answers a delivery with status; the ones to retry later say
// when. A delivery refused before its body was read (413, 429, 503)
// closes the connection: net/http would otherwise read up to 256 KiB more
// of the unwanted body before sending the answer, so a client that stops
// sending would keep it waiting.
func Answer(w http.ResponseWriter, r *http.Request, status int) {
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", RetryAfter)
		fallthrough
	case http.StatusRequestEntityTooLarge:
		if r.ProtoMajor == 1 {
			w.Header().Set("Connection", "close")
		}
	}
	writeJSON(w, status, map[string]string{"status": http.StatusText(status)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
