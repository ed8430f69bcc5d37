// Package fakeslack is an in-process fake of the parts of Slack that a
// socket-mode bot talks to, for tests and load benchmarks. The real slack-go
// client talks to it over HTTP and a real websocket:
//
//	srv := fakeslack.New()
//	defer srv.Close()
//	api := slack.New(srv.BotToken(),
//		slack.OptionAPIURL(srv.APIURL()),
//		slack.OptionAppLevelToken(srv.AppToken()))
//	client := socketmode.New(api)
//
// # What it covers
//
// Web API, under APIURL() (which ends in a slash, as slack.OptionAPIURL needs):
//
//   - auth.test, apps.connections.open, chat.postMessage, chat.postEphemeral,
//     chat.update and chat.delete, answered with the fields Slack documents
//     (ok, channel, ts, message_ts, message). Timestamps are unique and
//     increasing ("1700000000.000100", …). chat.update and chat.delete only
//     know messages posted through the fake, as Slack only knows real ones
//     (message_not_found otherwise).
//   - Bodies are read as Slack reads them: form-encoded (slack-go's chat.* and
//     auth.test), JSON (apps.connections.open, views.*), multipart, and query
//     parameters. The token comes from "Authorization: Bearer" or the token
//     field.
//   - Errors as Slack gives them, with HTTP 200: not_authed (no token),
//     invalid_auth (unknown token), not_allowed_token_type (app token on a
//     bot method or the reverse), channel_not_found, no_text,
//     invalid_blocks (not a JSON array or more than 50 blocks),
//     user_not_in_channel, message_not_found, invalid_json and
//     unknown_method. Other methods can be added with Handle.
//   - Rate limits: RateLimit makes the next n calls to a method answer HTTP 429
//     with a Retry-After header in whole seconds and {"ok":false,"error":"ratelimited"}.
//   - Faults: Inject makes matching calls (by method, channel, count or
//     seeded probability, see WithSeed) slow (Delay), hung until the client
//     gives up or ReleaseHangs (Hang), answered with a 5xx and an HTML body
//     or a 429 with or without Retry-After (Status), or cut without an
//     answer (Reset); AfterProcessing applies the fault after the call took
//     effect (the post is stored), so the client cannot tell it did. Every
//     hit call is recorded with Call.Fault set.
//   - WithChannelLimit answers chat.postMessage with 429 when one channel is
//     posted to faster than Slack's per-channel limit allows.
//   - chat.postMessage keeps the metadata it is given with the message
//     (messages are stored per channel and ts; a history method can be
//     added in a file of its own with Handle or a builtins entry).
//   - response_url: ResponseURL hands out URLs that record what is posted to
//     them and, like Slack, accept five posts within 30 minutes (then used_url
//     or expired_url); unknown ones answer 404 "no_service".
//
// Socket mode, at the URL apps.connections.open returns (a one-use ticket, as
// with Slack):
//
//   - On connect the server sends hello (num_connections, debug_info,
//     connection_info.app_id), then websocket ping control frames every
//     PingInterval and counts the pongs.
//   - Send and SendAsync deliver envelopes ({envelope_id, type,
//     accepts_response_payload, retry_attempt, retry_reason, payload}) on a
//     live connection, round-robin when there are several, waiting for one if
//     there is none, and match the client's acks ({envelope_id, payload}),
//     recording payload and latency. An ack that does not come within
//     AckTimeout (3 s, Slack's deadline) is an error; a late one is still
//     recorded, marked Late. WithRedelivery(n) sends an unacked envelope
//     again, as Slack does (new envelope_id, retry_attempt+1, retry_reason
//     "timeout"); without it, send the envelope again yourself with
//     RetryAttempt and RetryReason set.
//   - SendRaw writes any frame (an unknown envelope type, a field of an
//     unexpected type, broken JSON) and waits for its ack by envelope id.
//   - Disconnect sends {"type":"disconnect","reason":…} and closes the socket
//     after DisconnectGrace unless the client closes it first;
//     DropConnections closes sockets without a word.
//
// Everything is recorded (Calls, Acks, Stats) and can be waited for without
// sleeping: every change wakes the Wait… methods.
//
// A load run sends on a ticker and collects the acks afterwards:
//
//	tick := time.NewTicker(time.Second / 200)
//	defer tick.Stop()
//	acks := make([]<-chan fakeslack.Ack, 0, 1000)
//	for range 1000 {
//		<-tick.C
//		env := srv.EventEnvelope("", srv.Message("U1", "D1", "hi"))
//		acks = append(acks, srv.SendAsync(ctx, env))
//	}
//	for _, ch := range acks {
//		a := <-ch // a.Err, a.Latency
//	}
//
// # How slack-go v0.36.0 behaves against it
//
//   - socketmode.Client.RunContext calls apps.connections.open with the app
//     token (JSON POST, empty body), dials the URL and then reconnects on its
//     own, calling apps.connections.open again, after: a disconnect message
//     (the library closes the socket at once and reconnects without backoff;
//     no disconnect event reaches client.Events), any read error including a
//     dropped socket, and a missing ping (no ping within OptionPingInterval,
//     default 30 s). Failed reconnects back off from 100 ms doubling to 5 min,
//     or wait Retry-After on a 429. invalid_auth, not_authed, token_revoked,
//     account_inactive and an HTTP 404 stop RunContext with that error.
//   - There is no overlap: the old socket is closed before the new one is
//     opened, so envelopes sent in between wait for the new connection (here)
//     or go to another connection / are retried (Slack).
//   - Nothing is acked by the library; client.Ack writes {envelope_id, payload}
//     and refuses payloads of 20 KB or more.
//   - Web API calls are not retried unless the slack.Client was made with
//     slack.OptionRetry / OptionRetryConfig; then a 429 is retried after
//     Retry-After (at least 1 s) plus up to 1 s of jitter. Without it the call
//     fails with *slack.RateLimitedError{RetryAfter}.
package fakeslack
