package bot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/time/rate"
)

// A post whose answer is lost (a 5xx from Slack's load balancer, a
// connection reset after the request went out, a call that hangs past its
// timeout) may or may not have been posted: Slack has no idempotency key
// for chat.postMessage. Before posting such a message again, the retry
// policy looks for it in Slack: every reply carries a marker in its
// message metadata (a random id, nothing about the user), which
// conversations.replies and conversations.history return with
// include_all_metadata. Found, the post counts as done; not found, it is
// posted again. The quiz's post and result line are looked for by the
// marker they carry already.
//
// Reading history needs channels:history / groups:history / im:history (the
// manifest asks for them, for thread follow-ups; a group DM would need
// mpim:history, which it does not ask for). Slack gives
// internal, customer-built apps Tier 3 limits on those methods (50+ a
// minute); commercially distributed apps outside the Marketplace get one a
// minute. Looks are rationed (lookEvery, lookBurst: past the budget a look
// waits its turn, within the post's deadline), and when Slack refuses one
// (no scope, rate limited, down) the post is sent again, as before: a
// rare duplicate rather than a lost reply. A look is needed only when a post's
// answer is lost, never on the ordinary path.

// Looks are rationed to Tier 3's 50 a minute for each of the two methods,
// with bursts (Slack allows short ones past the limit, and a 429 is waited
// out like any other).
const (
	lookEvery = 1200 * time.Millisecond
	lookBurst = 50
	// lookPages bounds how many pages of 15 messages a look reads.
	lookPages = 6
	// lookTimeout bounds one look, its own retries included.
	lookTimeout = 15 * time.Second
)

// replyEventType is the metadata event type of Shipmate's replies.
const replyEventType = "shipmate_reply"

// lookBack finds in Slack the message a post may have left.
type lookBack struct {
	method string // the history method look calls, for its budget
	look   func(ctx context.Context) (ts string, found bool, err error)

	mu    sync.Mutex
	ts    string
	found bool
}

// posted reports whether a look found the message, and its ts.
func (l *lookBack) posted() (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ts, l.found
}

type lookBackKey struct{}

// withLookBack returns a context whose chat.postMessage, when its answer is
// lost, is looked for with l before it is sent again.
func withLookBack(ctx context.Context, l *lookBack) context.Context {
	return context.WithValue(ctx, lookBackKey{}, l)
}

func lookBackOf(ctx context.Context) *lookBack {
	l, _ := ctx.Value(lookBackKey{}).(*lookBack)
	return l
}

// looker runs looks for the retry policy, rationed.
type looker struct {
	log *slog.Logger
	lim map[string]*rate.Limiter // by the method a look calls

	mu      sync.Mutex
	refused map[string]bool // Slack's refusals logged already, by error code
}

func newLooker(log *slog.Logger) *looker {
	return &looker{log: log, refused: map[string]bool{}, lim: map[string]*rate.Limiter{
		"conversations.replies": rate.NewLimiter(rate.Every(lookEvery), lookBurst),
		"conversations.history": rate.NewLimiter(rate.Every(lookEvery), lookBurst),
	}}
}

// check runs l and reports whether the message is in Slack. Any failure to
// look (no budget, no scope, an error) reports false: the caller posts
// again.
func (k *looker) check(ctx context.Context, method string, l *lookBack) bool {
	// Out of budget, a look waits its turn (the post's deadline bounds it):
	// a late reply rather than a doubled one.
	lim := k.lim[l.method]
	if lim == nil {
		lim = k.lim["conversations.history"]
	}
	if err := lim.Wait(ctx); err != nil {
		k.log.Warn("reply's answer lost and no time left to look for it: posting again", "method", method)
		return false
	}
	// The look's own calls are retried (within lookTimeout), but never
	// looked for in turn.
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, lookBackKey{}, (*lookBack)(nil)), lookTimeout)
	defer cancel()
	ts, found, err := l.look(ctx)
	if err != nil {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && cannotLook(se.Err) {
			// A scope missing for this kind of conversation (an app
			// installed without the history scopes, a group DM): said once
			// per reason, and other conversations are still looked in.
			k.mu.Lock()
			first := !k.refused[se.Err]
			k.refused[se.Err] = true
			k.mu.Unlock()
			if first {
				k.log.Warn("Slack does not let Shipmate read this conversation's history ("+se.Err+"): a reply whose answer is lost there is posted again, and may show twice", "method", method)
			}
			return false
		}
		k.log.Warn("reply's answer lost and Slack could not be asked whether it was posted: posting again", "method", method, "err", describe(err))
		return false
	}
	if !found {
		return false
	}
	l.mu.Lock()
	l.ts, l.found = ts, true
	l.mu.Unlock()
	k.log.Info("reply's answer was lost but the message is in Slack: not posting it again", "method", method, "ts", ts)
	return true
}

// cannotLook reports whether a Slack error means the history cannot be
// read (rather than not just now).
func cannotLook(code string) bool {
	switch code {
	case "missing_scope", "not_allowed_token_type", "no_permission", "access_denied", "unknown_method",
		"method_not_supported_for_channel_type", "not_authed", "invalid_auth":
		return true
	}
	return false
}

// notSent reports whether a failed call's error shows the request never
// left this host (a refused or failed dial), so it cannot have been posted.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// newMarker returns a random id for a reply's metadata.
func newMarker() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// replyMetadata is the metadata that marks a reply.
func replyMetadata(marker string) slack.SlackMetadata {
	return slack.SlackMetadata{EventType: replyEventType, EventPayload: map[string]any{"reply": marker}}
}

// replyMetadataField is replyMetadata as an encoded form field, for a
// reply whose other fields are encoded already: what slack-go would send,
// without a JSON encoding on every reply. A marker is hexadecimal, so
// nothing in it needs escaping in JSON.
func replyMetadataField(marker string) string {
	return "metadata=" + url.QueryEscape(`{"event_type":"`+replyEventType+`","event_payload":{"reply":"`+marker+`"}}`)
}

func isReply(m slack.Message, marker string) bool {
	return m.Metadata.EventType == replyEventType && fmt.Sprint(m.Metadata.EventPayload["reply"]) == marker
}

// historyMethod is the method findReply reads with.
func historyMethod(thread string) string {
	if thread != "" {
		return "conversations.replies"
	}
	return "conversations.history"
}

// findReply returns a look for the reply marked marker, posted to channel
// (in thread, if not empty) after the message whose ts is after (on
// Slack's clock, so no trust in this host's; "" reads from the start).
func (b *Bot) findReply(channel, thread, after, marker string) func(ctx context.Context) (string, bool, error) {
	return func(ctx context.Context) (string, bool, error) {
		if thread != "" {
			params := &slack.GetConversationRepliesParameters{ChannelID: channel, Timestamp: thread, Oldest: after, Limit: 15, IncludeAllMetadata: true}
			for range lookPages {
				msgs, more, cursor, err := b.api.GetConversationRepliesContext(ctx, params)
				if err != nil {
					return "", false, err
				}
				for _, m := range msgs {
					if isReply(m, marker) {
						return m.Timestamp, true, nil
					}
				}
				if !more || cursor == "" {
					return "", false, nil
				}
				params.Cursor = cursor
			}
			return "", false, nil
		}
		params := &slack.GetConversationHistoryParameters{ChannelID: channel, Oldest: after, Limit: 15, IncludeAllMetadata: true}
		for range lookPages {
			resp, err := b.api.GetConversationHistoryContext(ctx, params)
			if err != nil {
				return "", false, err
			}
			for _, m := range resp.Messages {
				if isReply(m, marker) {
					return m.Timestamp, true, nil
				}
			}
			if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" {
				return "", false, nil
			}
			params.Cursor = resp.ResponseMetaData.NextCursor
		}
		return "", false, nil
	}
}
