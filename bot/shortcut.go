package bot

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// The message shortcut "Ask Shipmate" answers the message it was used on,
// privately, with a button to share the answer in the message's thread.

// Callback and action ids of the message shortcut.
const (
	// CallbackAskShipmate is the message shortcut's callback id (see
	// deploy/slack-app-manifest.yaml).
	CallbackAskShipmate = "ask_shipmate"
	// ActionShareThread shares a private answer in the thread of the
	// message it answers.
	ActionShareThread = "share_thread"
)

// onShortcut answers a message shortcut.
func (b *Bot) onShortcut(ctx context.Context, cb *slack.InteractionCallback) error {
	if cb.CallbackID != CallbackAskShipmate {
		b.log.Warn("unknown shortcut", "callback_id", cb.CallbackID)
		return nil
	}
	if cb.TriggerID != "" && !b.firstSeen(ctx, "shortcut:"+cb.TriggerID) {
		return nil
	}
	question := stripMentions(cb.Message.Text)
	if question == "" {
		return b.tellPrivately(ctx, cb, textMessage("That message has no text I can answer. Try `/shipmate` with your question."))
	}
	reply, err := b.cmds.askIn(ctx, cb.User.ID, question, nil)
	if err != nil {
		b.log.Error("shortcut", "user", cb.User.ID, "err", err)
		return b.tellPrivately(ctx, cb, textMessage("Sorry, something went wrong answering that. Please try again."))
	}
	var key string
	if cb.TriggerID != "" {
		key = "shortcut:" + cb.TriggerID
	}
	msg := RenderBlocks(reply, b.name, RenderOptions{Command: question})
	if declined(reply) {
		b.recordGap(ctx, Gap{Kind: GapDeclined, Question: question, User: cb.User.ID, Key: key})
		msg = HelpHint(msg, b.cmds.Examples(ctx, 2))
	} else if ts := cb.Message.Timestamp; ts != "" && cb.Channel.ID != "" {
		thread := cb.Message.ThreadTimestamp
		if thread == "" {
			thread = ts
		}
		value := clip(cb.Channel.ID+"|"+thread+"|"+question, maxButtonValue)
		msg.Blocks = append(msg.Blocks[:min(len(msg.Blocks), maxBlocks-1)],
			slack.NewActionBlock("share_thread", button(ActionShareThread, "Share in thread", value, "primary")))
	}
	return b.tellPrivately(ctx, cb, msg)
}

// tellPrivately shows msg only to the user of a shortcut: ephemeral in the
// channel through the response URL, or, where Slack refuses that (the bot
// cannot reach the conversation), in a direct message from Shipmate.
func (b *Bot) tellPrivately(ctx context.Context, cb *slack.InteractionCallback, msg Message) error {
	if cb.ResponseURL != "" {
		// Sent here rather than through the outbox, to learn whether Slack
		// took it.
		err := b.say(ctx, "", append(msg.Options(), slack.MsgOptionResponseURL(cb.ResponseURL, slack.ResponseTypeEphemeral))...)
		if err == nil {
			return nil
		}
		b.log.Warn("shortcut answer not shown in the channel, sending it as a direct message", "channel", cb.Channel.ID, "err", err)
	}
	// Posting to a user id posts to the app's direct message with them.
	b.post(ctx, cb.User.ID, msg.Options())
	return nil
}

func textMessage(text string) Message {
	return Message{Text: text, Blocks: []slack.Block{section(text)}}
}

// shareInThread posts a shortcut's answer in the thread of the message it
// answers, for everyone, and removes the private copy. Shipmate then takes
// part in the thread, so follow-ups there are answered.
func (b *Bot) shareInThread(ctx context.Context, cb *slack.InteractionCallback, a *slack.BlockAction) error {
	parts := strings.SplitN(a.Value, "|", 3)
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || strings.TrimSpace(parts[2]) == "" {
		return fmt.Errorf("bad share value %q", a.Value)
	}
	channel, thread, question := parts[0], parts[1], parts[2]
	if !b.firstSeen(ctx, fmt.Sprintf("share:%s/%s/%s", cb.User.ID, channel, thread)) {
		return nil // a double click
	}
	turns := b.history(ctx, channel, thread, false)
	reply, err := b.cmds.askIn(ctx, cb.User.ID, question, turns)
	if err != nil {
		return err
	}
	msg := RenderBlocks(reply, b.name, RenderOptions{Command: question, SharedBy: cb.User.ID})
	if err := b.say(ctx, channel, append(msg.Options(), slack.MsgOptionTS(thread))...); err != nil {
		b.log.Warn("share in thread refused", "channel", channel, "err", err)
		if cb.ResponseURL != "" {
			b.respond(ctx, cb.ResponseURL, slack.ResponseTypeEphemeral, false,
				textMessage("Sorry, I could not post in that thread. Invite me to the channel (`/invite @Shipmate`) and try again."))
		}
		return nil
	}
	b.remember(ctx, "", cb.User.ID, channel, thread, question, reply)
	if cb.ResponseURL != "" && cb.Container.IsEphemeral {
		b.respondWith(ctx, cb.ResponseURL, []slack.MsgOption{slack.MsgOptionDeleteOriginal(cb.ResponseURL)})
	}
	return nil
}
