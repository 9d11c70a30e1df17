package webhook

import (
	"context"
	"net/http"

	"github.com/gatehouse-auth/gatehouse/internal/kit"
)

// Receiver verifies and applies one delivery and returns the status to
// answer with.
type Receiver func(ctx context.Context, r *http.Request) int

// Serve is a webhook endpoint answered with the engine's kit: POST only,
// the body's read bounded in time (Prepare), and the receiver's status
// answered (Answer).
func Serve(k kit.Kit, receive Receiver) func(w http.ResponseWriter, r *http.Request, rest string) {
	return func(w http.ResponseWriter, r *http.Request, _ string) {
		if r.Method != http.MethodPost {
			k.MethodNotAllowed(w, "POST")
			return
		}
		Prepare(w)
		Answer(k, w, r, receive(r.Context(), r))
	}
}

// Answer answers a delivery with status; the ones to retry later say
// when. A delivery refused before its body was read (413, 429, 503)
// closes the connection: net/http would otherwise read up to 256 KiB more
// of the unwanted body before sending the answer, so a client that stops
// sending would keep it waiting.
func Answer(k kit.Kit, w http.ResponseWriter, r *http.Request, status int) {
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", RetryAfter)
		fallthrough
	case http.StatusRequestEntityTooLarge:
		if r.ProtoMajor == 1 {
			w.Header().Set("Connection", "close")
		}
	}
	k.JSON(w, status, map[string]string{"status": http.StatusText(status)})
}
