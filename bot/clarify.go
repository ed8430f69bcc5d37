package bot

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"shipmate/index"
)

// Clarifying buttons: when the engine asks back (Answer.Clarify), the
// options are buttons, and a click answers the chosen variant in the same
// thread (privately for a private answer). The choice is stored in the
// learning loop, keyed by the message and the option, so a double click, a
// retried click or a click after a restart answers once.

// ActionClarify prefixes the action ids of clarifying buttons.
const ActionClarify = "clarify"

// maxClarifyOptions is how many options are shown as buttons.
const maxClarifyOptions = 5

// declined reports whether a reply is a question Shipmate declined,
// rather than answered or asked back about.
func declined(r Reply) bool {
	return r.Answer != nil && !r.Answer.Confident && r.Answer.Clarify == nil
}

// clarifyBlocks renders the engine's question back and its options as
// buttons. A button's value carries the option's question, its label and
// the question first asked.
func clarifyBlocks(a *index.Answer) []slack.Block {
	c := a.Clarify
	if c == nil || len(c.Options) == 0 {
		return nil
	}
	var buttons []slack.BlockElement
	for i, o := range c.Options {
		if i == maxClarifyOptions {
			break
		}
		if strings.TrimSpace(o.Question) == "" || strings.TrimSpace(o.Label) == "" {
			continue
		}
		value := clarifyValue(o.Question, o.Label, a.Question)
		buttons = append(buttons, button(ActionClarify+"_"+strconv.Itoa(i), o.Label, value, ""))
	}
	if len(buttons) == 0 {
		return nil
	}
	return []slack.Block{
		section(":thinking_face: " + esc(c.Question)),
		slack.NewActionBlock("clarify", buttons...),
	}
}

// clarifyValue packs a button's value; the question first asked is cut
// first if it does not fit.
func clarifyValue(question, label, asked string) string {
	v := clip(question, 1200) + "\n" + clip(oneLine(label), maxButtonText) + "\n"
	return v + clip(asked, maxButtonValue-len([]rune(v)))
}

// clarify answers the option a clarifying button stands for.
func (b *Bot) clarify(ctx context.Context, cb *slack.InteractionCallback, a *slack.BlockAction) error {
	parts := strings.SplitN(a.Value, "\n", 3)
	if len(parts) != 3 || strings.TrimSpace(parts[0]) == "" {
		b.log.Warn("clarifying button with a bad value", "value", a.Value, "user", cb.User.ID)
		b.outOfDate(ctx, cb)
		return nil
	}
	question, label, asked := parts[0], parts[1], parts[2]
	channel := cb.Container.ChannelID
	if channel == "" {
		channel = cb.Channel.ID
	}
	key := fmt.Sprintf("clarify:%s/%s/%s", channel, cb.Container.MessageTs, a.ActionID)
	if cb.Container.IsEphemeral {
		key += "/" + cb.User.ID // each user sees their own copy
	}
	if _, added := b.recordGap(ctx, Gap{Kind: GapClarified, Question: asked, Answer: label, User: cb.User.ID, Key: key}); !added {
		return nil // answered already
	}
	thread := cb.Container.ThreadTs
	if thread == "" {
		thread = cb.Message.ThreadTimestamp
	}
	if thread == "" {
		thread = cb.Container.MessageTs
	}
	dm := strings.HasPrefix(channel, "D")
	if dm && cb.Message.ThreadTimestamp == "" && cb.Container.ThreadTs == "" {
		thread = "" // a DM's answer is in the DM itself
	}
	reply, err := b.cmds.askIn(ctx, cb.User.ID, question, b.history(ctx, channel, thread, dm))
	if err != nil {
		return err
	}
	b.metrics.Answered(outcome(reply, nil))
	msg := RenderBlocks(reply, b.name, RenderOptions{Command: question, Share: cb.Container.IsEphemeral && reply.Answer != nil && reply.Answer.Confident})
	if cb.Container.IsEphemeral {
		return b.respond(ctx, cb.ResponseURL, slack.ResponseTypeEphemeral, false, msg)
	}
	b.remember(ctx, "", cb.User.ID, channel, thread, question, reply)
	b.postReply(ctx, channel, thread, cb.Container.MessageTs, msg)
	return nil
}
