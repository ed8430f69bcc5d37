package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"shipmate/content"
	"shipmate/quiz"
)

// QuizService is what the bot needs of the daily quiz. *quiz.Quiz implements it.
type QuizService interface {
	Answer(ctx context.Context, c quiz.Click) (quiz.Result, error)
	Leaderboard(ctx context.Context, period quiz.Period, now time.Time) ([]quiz.Score, error)
	Stats(ctx context.Context, user string, now time.Time) (quiz.Stats, error)
	Home(ctx context.Context, user string, now time.Time) (quiz.Home, error)
	PostNow(ctx context.Context, user string) (quiz.Post, error)
	RevealNow(ctx context.Context, user string) (int, error)
	Skip(ctx context.Context, user string) (quiz.Slot, error)
	Pause(ctx context.Context, user string) error
	Resume(ctx context.Context, user string) error
}

// ActionQuizAnswer prefixes the action ids of daily quiz answer buttons.
const ActionQuizAnswer = "quiz_answer"

// WithQuiz adds the daily quiz to the command table: leaderboard, stats and
// the admin subcommands of quiz. now is the clock the scores are read at.
func (c *Commands) WithQuiz(q QuizService, now func() time.Time) *Commands {
	c.quiz, c.now = q, now
	// Before "help", which stays last.
	c.table = slices.Insert(slices.Clone(c.table), len(c.table)-1, quizCommands...)
	return c
}

var quizCommands = []Command{
	{
		Name: "leaderboard", Aliases: []string{"scores", "top"}, Usage: "leaderboard [week|month|all]",
		Help: "Daily quiz points, accuracy and streaks.",
		Run: func(ctx context.Context, c *Commands, req Request) (Reply, error) {
			period, ok := parsePeriod(req.Args)
			if !ok {
				return Reply{Text: "Which leaderboard? `leaderboard week`, `leaderboard month` or `leaderboard all`."}, nil
			}
			rows, err := c.quiz.Leaderboard(ctx, period, c.now())
			if err != nil {
				return Reply{}, fmt.Errorf("leaderboard: %w", err)
			}
			return Reply{Text: renderLeaderboard(period, rows), Private: true}, nil
		},
	},
	{
		Name: "stats", Aliases: []string{"me"}, Usage: "stats",
		Help: "Your own daily quiz record.",
		Run: func(ctx context.Context, c *Commands, req Request) (Reply, error) {
			s, err := c.quiz.Stats(ctx, req.User, c.now())
			if err != nil {
				return Reply{}, fmt.Errorf("stats: %w", err)
			}
			return Reply{Text: renderStats(s), Private: true}, nil
		},
	},
}

func parsePeriod(s string) (quiz.Period, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "week", "weekly", "this week":
		return quiz.Week, true
	case "month", "monthly", "this month":
		return quiz.Month, true
	case "all", "all-time", "alltime", "ever":
		return quiz.All, true
	}
	return 0, false
}

func renderLeaderboard(p quiz.Period, rows []quiz.Score) string {
	title := map[quiz.Period]string{quiz.Week: "this week", quiz.Month: "this month", quiz.All: "all time"}[p]
	if len(rows) == 0 {
		return fmt.Sprintf("*Quiz leaderboard, %s*\nNo answers yet. The next daily quiz is your chance.", title)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*Quiz leaderboard, %s*", title)
	for i, r := range rows {
		if i == 20 {
			fmt.Fprintf(&b, "\n…and %d more", len(rows)-i)
			break
		}
		fmt.Fprintf(&b, "\n%d. <@%s>: %d pts, %d/%d right (%.0f%%), streak %d", i+1, r.User, r.Points, r.Correct, r.Answered, 100*r.Accuracy, r.Streak)
	}
	return b.String()
}

func renderStats(s quiz.Stats) string {
	if s.All.Answered == 0 {
		return "You have not answered a daily quiz yet. Try `/shipmate quiz` for a practice question."
	}
	line := func(name string, sc quiz.Score) string {
		return fmt.Sprintf("%s: %d pts, %d/%d right (%.0f%%)", name, sc.Points, sc.Correct, sc.Answered, 100*sc.Accuracy)
	}
	return fmt.Sprintf("*Your quiz record*\n%s\n%s\n%s\nCurrent streak %d, best %d, rank #%d all time.",
		line("This week", s.Week), line("This month", s.Month), line("All time", s.All), s.All.Streak, s.BestStreak, s.Rank)
}

// quizAdmin runs "quiz post-now|reveal-now|skip|pause|resume".
func (c *Commands) quizAdmin(ctx context.Context, user, sub string) (Reply, error) {
	var (
		text string
		err  error
	)
	switch strings.ToLower(sub) {
	case "post-now", "post", "now":
		_, err = c.quiz.PostNow(ctx, user)
		text = "Posted a quiz question in the quiz channel."
	case "reveal-now", "reveal":
		var n int
		n, err = c.quiz.RevealNow(ctx, user)
		text = fmt.Sprintf("Revealed %d open quiz(zes).", n)
	case "skip":
		var s quiz.Slot
		s, err = c.quiz.Skip(ctx, user)
		text = fmt.Sprintf("The quiz due %s will be skipped.", s.Due.Format("Mon 2 Jan 15:04 MST"))
	case "pause":
		err = c.quiz.Pause(ctx, user)
		text = "The daily quiz is paused. `/shipmate quiz resume` restarts it."
	case "resume":
		err = c.quiz.Resume(ctx, user)
		text = "The daily quiz is back on."
	default:
		return Reply{Text: "Quiz commands: `quiz` (a practice question for you), and for admins `quiz post-now`, `quiz reveal-now`, `quiz skip`, `quiz pause`, `quiz resume`."}, nil
	}
	switch {
	case errors.Is(err, quiz.ErrNotAdmin):
		return Reply{Text: "Sorry, only quiz admins can do that. Ask one of them, or try `/shipmate quiz` for a practice question."}, nil
	case errors.Is(err, quiz.ErrNoChannel):
		return Reply{Text: "The daily quiz is not set up: QUIZ_CHANNEL is empty."}, nil
	case errors.Is(err, quiz.ErrNoOpenQuiz):
		return Reply{Text: "There is no open quiz to reveal."}, nil
	case errors.Is(err, quiz.ErrAlreadyPosted):
		return Reply{Text: "That quiz was posted already."}, nil
	case errors.Is(err, quiz.ErrQueued):
		return Reply{Text: "Asked the quiz scheduler; it has not finished yet. The quiz channel will show it shortly."}, nil
	case errors.Is(err, quiz.ErrNotPosted):
		return Reply{Text: "Slack did not take the quiz post. Shipmate will look for it and try again for a few minutes; check the quiz channel."}, nil
	case err != nil:
		return Reply{}, fmt.Errorf("quiz %s: %w", sub, err)
	}
	return Reply{Text: text}, nil
}

// quizPublisher shows the daily quiz in Slack.
type quizPublisher struct {
	b    *Bot
	base *content.Base
}

// QuizPublisher returns the quiz.Publisher that posts through this bot.
func (b *Bot) QuizPublisher(base *content.Base) quiz.Publisher {
	return &quizPublisher{b: b, base: base}
}

// Every quiz message carries message metadata naming its quiz, so that a
// scheduler that died before learning a post's ts can find the message in
// the channel's history instead of posting it again. Reading metadata back
// needs a history scope (channels:history, groups:history for a private
// channel); without it an unconfirmed post is given up rather than risked
// twice.
const (
	quizEventType = "shipmate_quiz"
	kindQuestion  = "question"
	kindResult    = "result"
	// historyPages bounds how far back FindQuiz reads (200 messages a page).
	historyPages = 10
)

func quizMetadata(quizID int64, kind string) slack.SlackMetadata {
	return slack.SlackMetadata{EventType: quizEventType, EventPayload: map[string]any{"quiz_id": strconv.FormatInt(quizID, 10), "kind": kind}}
}

// isQuizMessage reports whether m carries the metadata of quizID's kind.
func isQuizMessage(m slack.Message, quizID int64, kind string) bool {
	md := m.Metadata
	if md.EventType != quizEventType {
		return false
	}
	return fmt.Sprint(md.EventPayload["quiz_id"]) == strconv.FormatInt(quizID, 10) && md.EventPayload["kind"] == kind
}

// tsBefore reports whether the Slack timestamp ts is before t.
func tsBefore(ts string, t time.Time) bool {
	sec, _, _ := strings.Cut(ts, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	return err == nil && n < t.Unix()
}

// historyErr marks the errors that mean Slack will not show the history.
func historyErr(method string, err error) error {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		switch se.Err {
		case "missing_scope", "not_in_channel", "channel_not_found", "not_allowed_token_type", "no_permission",
			"unknown_method", "method_not_supported_for_channel_type", "access_denied":
			return fmt.Errorf("%s: %w (%w)", method, err, quiz.ErrCannotLook)
		}
	}
	return fmt.Errorf("%s: %w", method, err)
}

func (p *quizPublisher) PostQuiz(ctx context.Context, post quiz.Post, q content.Question) (string, error) {
	msg := QuizMessage(post, q, 0)
	opts := append(msg.Options(), slack.MsgOptionMetadata(quizMetadata(post.QuizID, kindQuestion)))
	// A post whose answer is lost is looked for by its marker before it
	// is sent again (lookback.go).
	began := time.Now()
	l := &lookBack{method: "conversations.history", look: func(ctx context.Context) (string, bool, error) { return p.FindQuiz(ctx, post, began) }}
	_, ts, err := p.b.api.PostMessageContext(withLookBack(ctx, l), post.Channel, opts...)
	if found, ok := l.posted(); err != nil && ok {
		return found, nil
	}
	return ts, err
}

func (p *quizPublisher) FindQuiz(ctx context.Context, post quiz.Post, since time.Time) (string, bool, error) {
	// Newest first, page by page, until a page ends before since. (No
	// "oldest" filter: it would trust that Slack's clock and ours agree.)
	params := &slack.GetConversationHistoryParameters{ChannelID: post.Channel, Limit: 200, IncludeAllMetadata: true}
	for range historyPages {
		resp, err := p.b.api.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return "", false, historyErr("conversations.history", err)
		}
		for _, m := range resp.Messages {
			if isQuizMessage(m, post.QuizID, kindQuestion) {
				return m.Timestamp, true, nil
			}
		}
		if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" || len(resp.Messages) == 0 {
			return "", false, nil
		}
		if last := resp.Messages[len(resp.Messages)-1].Timestamp; tsBefore(last, since.Add(-time.Hour)) {
			return "", false, nil
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
	}
	return "", false, nil
}

// UpdateCount is sent once, never retried: a retried count could land after
// the reveal and hide it, and the next answer updates the count anyway.
func (p *quizPublisher) UpdateCount(ctx context.Context, post quiz.Post, answered int) error {
	msg := QuizMessage(post, post.Question, answered)
	_, _, _, err := p.b.api.UpdateMessageContext(withoutRetries(ctx), post.Channel, post.MessageTS, msg.Options()...)
	return err
}

func (p *quizPublisher) ShowReveal(ctx context.Context, post quiz.Post, q content.Question, counts []int) error {
	msg := RevealMessage(post, q, counts, p.base.Note(q.Note))
	opts := append(msg.Options(), slack.MsgOptionMetadata(quizMetadata(post.QuizID, kindQuestion)))
	return p.b.retry(ctx, func() error {
		_, _, _, err := p.b.api.UpdateMessageContext(ctx, post.Channel, post.MessageTS, opts...)
		return err
	})
}

func (p *quizPublisher) PostResult(ctx context.Context, post quiz.Post, q content.Question, winners []string) (string, error) {
	text := "Nobody got this one. It will come back for review."
	if len(winners) > 0 {
		mentions := make([]string, len(winners))
		for i, w := range winners {
			mentions[i] = "<@" + w + ">"
		}
		text = fmt.Sprintf(":tada: Well done %s: the answer was %c.", strings.Join(mentions, ", "), Letters[q.Correct()])
	}
	l := &lookBack{method: "conversations.replies", look: func(ctx context.Context) (string, bool, error) { return p.FindResult(ctx, post) }}
	_, ts, err := p.b.api.PostMessageContext(withLookBack(ctx, l), post.Channel, slack.MsgOptionTS(post.MessageTS), slack.MsgOptionText(text, false),
		slack.MsgOptionMetadata(quizMetadata(post.QuizID, kindResult)))
	if found, ok := l.posted(); err != nil && ok {
		ts, err = found, nil
	}
	if err == nil {
		p.b.refreshHomes(ctx) // scores, streaks and review lists changed
	}
	return ts, err
}

func (p *quizPublisher) FindResult(ctx context.Context, post quiz.Post) (string, bool, error) {
	params := &slack.GetConversationRepliesParameters{ChannelID: post.Channel, Timestamp: post.MessageTS, Limit: 200, IncludeAllMetadata: true}
	for range historyPages {
		msgs, more, cursor, err := p.b.api.GetConversationRepliesContext(ctx, params)
		if err != nil {
			return "", false, historyErr("conversations.replies", err)
		}
		for _, m := range msgs {
			if isQuizMessage(m, post.QuizID, kindResult) {
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

// QuizMessage renders a daily quiz post: the question, choices as buttons
// and how many have answered, never how.
func QuizMessage(post quiz.Post, q content.Question, answered int) Message {
	var b strings.Builder
	title := "Daily quiz"
	switch {
	case post.Late:
		title += " (posted late: Shipmate was down at quiz time)"
	case post.Review:
		title += " (review: the team found this one hard)"
	}
	fmt.Fprintf(&b, "*%s*\n", esc(q.Question))
	var buttons []slack.BlockElement
	for i, c := range q.Choices {
		fmt.Fprintf(&b, "\n*%c)* %s", Letters[i], esc(c.Text))
		buttons = append(buttons, button(ActionQuizAnswer+"_"+strconv.Itoa(i), fmt.Sprintf("%c) %s", Letters[i], c.Text),
			fmt.Sprintf("%d|%d", post.QuizID, i), ""))
	}
	count := fmt.Sprintf("%d answered · your answer is private until the reveal", answered)
	if answered == 1 {
		count = "1 answered · your answer is private until the reveal"
	}
	blocks := []slack.Block{header(title), section(b.String())}
	if len(buttons) > 0 {
		blocks = append(blocks, slack.NewActionBlock("quiz", buttons...))
	}
	blocks = append(blocks, contextBlock(count))
	return Message{Blocks: blocks, Text: clip(esc(title+": "+q.Question), maxFallbackText)}
}

// RevealMessage renders a revealed quiz: the answer, per-choice counts, why
// each wrong choice is wrong and the note to read. The buttons stay, so a
// late click gets the answer privately.
func RevealMessage(post quiz.Post, q content.Question, counts []int, note *content.Note) Message {
	correct := q.Correct()
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*\n", esc(q.Question))
	total := 0
	for _, n := range counts {
		total += n
	}
	var buttons []slack.BlockElement
	for i, c := range q.Choices {
		n := 0
		if i < len(counts) {
			n = counts[i]
		}
		mark := ":x:"
		if i == correct {
			mark = ":white_check_mark:"
		}
		fmt.Fprintf(&b, "\n%s *%c)* %s: %d\n      _%s_", mark, Letters[i], esc(c.Text), n, esc(c.Why))
		buttons = append(buttons, button(ActionQuizAnswer+"_"+strconv.Itoa(i), fmt.Sprintf("%c) %s", Letters[i], c.Text), fmt.Sprintf("%d|%d", post.QuizID, i), ""))
	}
	blocks := []slack.Block{header("Daily quiz: the answer is " + string(Letters[correct])), section(b.String()),
		slack.NewActionBlock("quiz", buttons...)}
	if note != nil {
		blocks = append(blocks, section(fmt.Sprintf("*Read more: %s*\n%s", esc(note.Title), esc(firstParagraph(note.Body)))))
	}
	blocks = append(blocks, contextBlock(fmt.Sprintf("%d answered", total)))
	return Message{Blocks: blocks, Text: clip(esc(fmt.Sprintf("Daily quiz answer: %c) %s", Letters[correct], q.Choices[correct].Text)), maxFallbackText)}
}

// quizAnswer records a click on a daily quiz button and tells the user
// privately, only after the answer is durable. Every click gets a reply:
// a button whose value no longer means anything (garbage, a choice the
// question lacks, a quiz that is gone) is "out of date"; a copy of the
// message elsewhere does not score.
func (b *Bot) quizAnswer(ctx context.Context, cb *slack.InteractionCallback, a *slack.BlockAction) error {
	reply := func(text string) error {
		msg := Message{Blocks: []slack.Block{section(text)}, Text: text}
		return b.respond(ctx, cb.ResponseURL, slack.ResponseTypeEphemeral, false, msg)
	}
	id, idx, _ := strings.Cut(a.Value, "|")
	quizID, err1 := strconv.ParseInt(id, 10, 64)
	choice, err2 := strconv.Atoi(idx)
	if err1 != nil || err2 != nil || b.cmds.quiz == nil {
		b.log.Warn("click on a quiz button with a value that means nothing", "value", a.Value, "user", cb.User.ID)
		return reply(outOfDate)
	}
	channel := cb.Container.ChannelID // where the clicked message is
	if channel == "" {
		channel = cb.Channel.ID
	}
	r, err := b.cmds.quiz.Answer(ctx, quiz.Click{QuizID: quizID, Choice: choice, User: cb.User.ID, Channel: channel, MessageTS: cb.Container.MessageTs})
	switch {
	case errors.Is(err, quiz.ErrNotFound), errors.Is(err, quiz.ErrBadChoice):
		b.log.Warn("click on an out-of-date quiz button", "value", a.Value, "user", cb.User.ID, "err", err)
		return reply(outOfDate)
	case errors.Is(err, quiz.ErrWrongMessage):
		b.log.Info("click on a copy of a quiz message", "value", a.Value, "user", cb.User.ID, "channel", channel)
		return reply(outOfDateCopy)
	case err != nil:
		// Tell the user it did not count, then log the cause.
		rerr := reply("Sorry, I couldn't record that answer. Please click again in a moment.")
		return fmt.Errorf("record quiz answer: %w", errors.Join(err, rerr))
	}
	if err := b.respond(ctx, cb.ResponseURL, slack.ResponseTypeEphemeral, false, AnswerFeedback(r, b.cmds.base.Note(r.Note))); err != nil {
		return err
	}
	if !r.Already && !r.Closed {
		b.refreshHome(ctx, cb.User.ID) // it now shows the answer
	}
	return nil
}

// outOfDate is the reply to a quiz button that no longer means anything.
const outOfDate = "That button is out of date, so the click does not count. Answer on the latest daily quiz."

// outOfDateCopy is the reply to a click on a copy of a quiz message: the
// buttons count only on the message Shipmate posted.
const outOfDateCopy = "That button is out of date here: this is a copy of the daily quiz, so the click does not count. Answer on the quiz message itself."

// AnswerFeedback renders the private reply to a daily quiz click.
func AnswerFeedback(r quiz.Result, note *content.Note) Message {
	var b strings.Builder
	switch {
	case r.Already:
		fmt.Fprintf(&b, "You already answered %c. Only your first answer counts.", Letters[r.Choice])
	case r.Closed:
		fmt.Fprintf(&b, "This quiz is closed, so this click does not score. The answer was %c: %s", Letters[r.CorrectChoice], esc(r.CorrectWhy))
	case r.Correct:
		fmt.Fprintf(&b, ":white_check_mark: Right, %c! Your answer is recorded.\n%s", Letters[r.Choice], esc(r.Why))
	default:
		fmt.Fprintf(&b, ":x: Not quite: you answered %c (recorded). %s\nThe answer is %c: %s", Letters[r.Choice], esc(r.Why), Letters[r.CorrectChoice], esc(r.CorrectWhy))
	}
	if note != nil && !r.Already {
		fmt.Fprintf(&b, "\nRead more: *%s*", esc(note.Title))
	}
	return Message{Blocks: []slack.Block{section(b.String())}, Text: clip(b.String(), maxFallbackText)}
}
