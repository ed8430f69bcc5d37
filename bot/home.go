package bot

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"shipmate/content"
	"shipmate/quiz"
)

// The App Home: how to use Shipmate, today's quiz and whether you answered
// it, your score and streak, the leaderboard and what to review. It is
// published with views.publish when a user opens it, and again when what
// it shows changes: after they answer a quiz, and after a reveal.

// HomeData is what one user's App Home shows.
type HomeData struct {
	User string
	// Followups says whether thread follow-ups without a mention are on.
	Followups bool
	// Examples are questions to try.
	Examples []string
	// QuizOn says whether the daily quiz is set up; the rest is empty if not.
	QuizOn  bool
	Quiz    quiz.Home
	Stats   quiz.Stats
	Leaders []quiz.Score
}

// maxLeaders is how many places of the leaderboard the App Home shows.
const maxLeaders = 5

// onHomeOpened publishes the App Home of the user who opened it.
func (b *Bot) onHomeOpened(ctx context.Context, ev *slackevents.AppHomeOpenedEvent) error {
	if ev.Tab != "home" || ev.User == "" {
		return nil // the Messages tab, or nobody
	}
	if err := b.convo.mem.HomeOpened(ctx, ev.User, b.convo.now()); err != nil {
		b.log.Warn("remember App Home user", "err", err)
	}
	return b.publishHome(ctx, ev.User)
}

// publishHome renders and publishes user's App Home.
func (b *Bot) publishHome(ctx context.Context, user string) error {
	d, err := b.homeData(ctx, user)
	if err != nil {
		return err
	}
	view := HomeView(d)
	return b.retry(ctx, func() error {
		_, err := b.api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view})
		return err
	})
}

func (b *Bot) homeData(ctx context.Context, user string) (HomeData, error) {
	d := HomeData{User: user, Followups: b.convo.conf.Followups, Examples: b.cmds.Examples(ctx, 3)}
	q := b.cmds.quiz
	if q == nil {
		return d, nil
	}
	now := b.convo.now()
	h, err := q.Home(ctx, user, now)
	if err != nil {
		return HomeData{}, fmt.Errorf("App Home quiz: %w", err)
	}
	if h.Channel == "" {
		return d, nil
	}
	d.QuizOn, d.Quiz = true, h
	if d.Stats, err = q.Stats(ctx, user, now); err != nil {
		return HomeData{}, fmt.Errorf("App Home stats: %w", err)
	}
	leaders, err := q.Leaderboard(ctx, quiz.Week, now)
	if err != nil {
		return HomeData{}, fmt.Errorf("App Home leaderboard: %w", err)
	}
	d.Leaders = leaders[:min(len(leaders), maxLeaders)]
	return d, nil
}

// refreshHome publishes user's App Home again if they have opened it:
// after they answer a quiz, what it shows has changed. A failure is only
// logged; the App Home is refreshed next time it is opened.
func (b *Bot) refreshHome(ctx context.Context, user string) {
	ok, err := b.convo.mem.HasHome(ctx, user, b.convo.now().Add(-homeTTL))
	if err == nil && ok {
		err = b.publishHome(ctx, user)
	}
	if err != nil {
		b.log.Warn("refresh App Home", "user", user, "err", err)
	}
}

// maxHomeRefresh bounds how many App Homes a reveal refreshes (the most
// recently opened ones), and homeRefreshTime how long it may take.
const (
	maxHomeRefresh  = 200
	homeRefreshTime = 30 * time.Second
)

// refreshHomes publishes again the App Homes opened recently: after a
// reveal, everyone's quiz, scores and review list change.
func (b *Bot) refreshHomes(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, homeRefreshTime)
	defer cancel()
	users, err := b.convo.mem.HomeUsers(ctx, b.convo.now().Add(-homeTTL), maxHomeRefresh)
	if err != nil {
		b.log.Warn("refresh App Homes", "err", err)
		return
	}
	failed := 0
	for _, u := range users {
		if err := b.publishHome(ctx, u); err != nil {
			failed++
			if ctx.Err() != nil {
				break
			}
		}
	}
	if failed > 0 {
		b.log.Warn("some App Homes not refreshed", "failed", failed, "users", len(users))
	}
}

// HomeView renders an App Home.
func HomeView(d HomeData) slack.HomeTabViewRequest {
	var bs []slack.Block
	bs = append(bs, header("Shipmate"), section(homeHowTo(d)))
	if len(d.Examples) > 0 {
		var b strings.Builder
		b.WriteString("*Try asking*")
		for _, e := range d.Examples {
			fmt.Fprintf(&b, "\n• _%s_", esc(oneLine(e)))
		}
		bs = append(bs, section(b.String()))
	}
	bs = append(bs, slack.NewDividerBlock(), header("Daily quiz"))
	if !d.QuizOn {
		bs = append(bs, section("The daily quiz is not set up in this workspace. `/shipmate quiz` gives you a practice question any time."))
		return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: bs}}
	}
	bs = append(bs, section(homeToday(d.Quiz)))
	bs = append(bs, section(homeRecord(d.Stats)))
	bs = append(bs, section(homeLeaders(d.Leaders, d.User)))
	bs = append(bs, section(homeReview(d.Quiz.Review)))
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: bs}}
}

func homeHowTo(d HomeData) string {
	var b strings.Builder
	b.WriteString("I answer *which AWS container service fits a need* (ECS, EKS, Fargate, the EC2 launch type, ECR, App Runner, Lambda container images) with the reasoning and the alternatives.\n")
	b.WriteString("\n• *Mention me* in a channel: I answer in a thread.")
	if d.Followups {
		b.WriteString(" Follow-up questions in that thread need no new mention.")
	}
	b.WriteString("\n• *Message me* in the Messages tab above.")
	b.WriteString("\n• *`/shipmate` your question*, only you see the answer; `/shipmate help` lists the commands.")
	b.WriteString("\n• On any message: *⋮ More actions → Ask Shipmate* answers it privately.")
	return b.String()
}

func homeToday(h quiz.Home) string {
	o := h.Open
	if o == nil {
		return fmt.Sprintf("No quiz is open right now. The next one is posted in <#%s>.", h.Channel)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*Today's question* (in <#%s>)\n%s\n", h.Channel, esc(o.Question.Question))
	if o.Answered && o.Choice >= 0 && o.Choice < len(o.Question.Choices) {
		fmt.Fprintf(&b, "\n:white_check_mark: You answered *%c) %s*. The answer is revealed later.", Letters[o.Choice], esc(o.Question.Choices[o.Choice].Text))
	} else {
		fmt.Fprintf(&b, "\n:hourglass: You have not answered yet: pick your answer in <#%s>.", h.Channel)
	}
	return b.String()
}

func homeRecord(s quiz.Stats) string {
	if s.All.Answered == 0 {
		return "*Your record*\nYou have not answered a daily quiz yet."
	}
	return fmt.Sprintf("*Your record*\nThis week %d pts (%d/%d right) · all time %d pts, rank #%d\nStreak %d, best %d",
		s.Week.Points, s.Week.Correct, s.Week.Answered, s.All.Points, s.Rank, s.All.Streak, s.BestStreak)
}

func homeLeaders(rows []quiz.Score, user string) string {
	if len(rows) == 0 {
		return "*Leaderboard this week*\nNo answers yet this week."
	}
	var b strings.Builder
	b.WriteString("*Leaderboard this week*")
	for i, r := range rows {
		you := ""
		if r.User == user {
			you = " (you)"
		}
		fmt.Fprintf(&b, "\n%d. <@%s>%s: %d pts, streak %d", i+1, r.User, you, r.Points, r.Streak)
	}
	return b.String()
}

func homeReview(qs []content.Question) string {
	if len(qs) == 0 {
		return "*Due for review*\nNothing: you have no missed questions from the last 30 days."
	}
	var b strings.Builder
	b.WriteString("*Due for review*: questions you missed")
	for _, q := range qs {
		c := q.Correct()
		if c < 0 {
			continue
		}
		fmt.Fprintf(&b, "\n• %s\n   _Answer: %c) %s. %s_", esc(oneLine(q.Question)), Letters[c], esc(q.Choices[c].Text), esc(oneLine(q.Choices[c].Why)))
	}
	b.WriteString("\n`/shipmate quiz` gives you a practice question.")
	return b.String()
}
