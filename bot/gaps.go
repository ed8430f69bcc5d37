package bot

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/slack-go/slack"

	"shipmate/index"
)

// The learning loop: every declined question, every "Not helpful" (with
// the answer shown and an optional "what was wrong?") and every clarifying
// choice is stored, and `/shipmate gaps` or `shipmate gaps` lists the
// most-asked questions without a good answer, similar wordings grouped, so
// the team knows what to write next.

// recordGap stores g, filling in its terms and time. A store failure is
// logged: the reply the user sees does not depend on it.
func (b *Bot) recordGap(ctx context.Context, g Gap) (id int64, added bool) {
	id, added, err := b.convo.mem.AddGap(ctx, b.fillGap(g))
	if err != nil {
		b.log.Error("record gap", "kind", string(g.Kind), "err", err)
		return 0, false
	}
	b.maybePrune(ctx)
	return id, added
}

// recordGapLater is recordGap for a caller that needs no answer: g is
// written behind the reply, with the thread turns (see recorder.go).
func (b *Bot) recordGapLater(ctx context.Context, g Gap) {
	if err := b.convo.rec.addGap(ctx, b.fillGap(g)); err != nil {
		b.log.Error("record gap", "kind", string(g.Kind), "err", err)
		return
	}
	b.maybePrune(ctx)
}

// fillGap fills in g's time and terms and bounds its question.
func (b *Bot) fillGap(g Gap) Gap {
	if g.At.IsZero() {
		g.At = b.convo.now()
	}
	g.Question = clip(strings.TrimSpace(g.Question), maxGapQuestion)
	if g.Terms == nil {
		g.Terms = GapTerms(g.Question)
	}
	return g
}

// maxGapQuestion bounds a stored question; maxComment a "what was wrong?".
const (
	maxGapQuestion = 500
	maxComment     = 1000
)

// Action and callback ids of the learning loop.
const (
	// CallbackGapComment is the modal asking "what was wrong?".
	CallbackGapComment = "gap_comment"
	commentBlock       = "comment"
	commentInput       = "comment_input"
)

// feedback handles "Helpful" and "Not helpful". A Not helpful click is
// stored with the answer shown, once per user and message however often
// it is clicked, and opens a modal asking what was wrong.
func (b *Bot) feedback(ctx context.Context, cb *slack.InteractionCallback, a *slack.BlockAction) error {
	helpful := a.ActionID == ActionHelpful
	already := func() error {
		// Counted once, but answered: a click never goes unanswered.
		if cb.ResponseURL == "" {
			return nil
		}
		return b.respond(ctx, cb.ResponseURL, slack.ResponseTypeEphemeral, false, textMessage("Thanks, your feedback on this answer is already recorded."))
	}
	if !b.firstSeen(ctx, fmt.Sprintf("feedback:%s/%s/%s", cb.User.ID, cb.Container.MessageTs, cb.Container.ChannelID)) {
		return already() // a double click, or a change of mind
	}
	answer, question, ok := strings.Cut(a.Value, "\n")
	if !ok { // a button from before answers were recorded in it
		answer, question = "", a.Value
	}
	thanks := "Thanks for the feedback!"
	if !helpful {
		// The key outlives this process: a click after a restart, or on
		// another replica, is not stored twice either.
		key := fmt.Sprintf("feedback:%s/%s/%s", cb.User.ID, cb.Container.ChannelID, cb.Container.MessageTs)
		id, added := b.recordGap(ctx, Gap{Kind: GapNotHelpful, Question: question, Answer: answer, User: cb.User.ID, Key: key})
		if !added && id != 0 {
			return already() // clicked before a restart, or on another replica
		}
		if id != 0 && cb.TriggerID != "" {
			if err := b.openComment(ctx, cb.TriggerID, id, question); err != nil {
				b.log.Warn("open the what-was-wrong modal", "err", err)
			} else {
				thanks = "Thanks: noted as not helpful, so the team can improve it."
			}
		}
	}
	b.metrics.Feedback(helpful)
	b.log.Info("feedback", "helpful", helpful, "question", question, "answer", answer, "user", cb.User.ID, "channel", cb.Channel.ID)
	if cb.ResponseURL == "" {
		return nil
	}
	return b.respond(ctx, cb.ResponseURL, slack.ResponseTypeEphemeral, false, textMessage(thanks))
}

// openComment opens the "what was wrong?" modal for gap id.
func (b *Bot) openComment(ctx context.Context, triggerID string, id int64, question string) error {
	_, err := b.api.OpenViewContext(ctx, triggerID, CommentModal(id, question))
	return err
}

// CommentModal renders the modal asking what was wrong with the answer to
// question; its private metadata is the gap's id.
func CommentModal(id int64, question string) slack.ModalViewRequest {
	input := slack.NewPlainTextInputBlockElement(
		slack.NewTextBlockObject(slack.PlainTextType, "The answer named the wrong service, missed a limit, …", false, false), commentInput)
	input.Multiline = true
	input.MaxLength = maxComment
	in := slack.NewInputBlock(commentBlock, slack.NewTextBlockObject(slack.PlainTextType, "What was wrong? (optional)", false, false), nil, input)
	in.Optional = true
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackGapComment,
		PrivateMetadata: strconv.FormatInt(id, 10),
		Title:           slack.NewTextBlockObject(slack.PlainTextType, "Not helpful", false, false),
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, "Send", false, false),
		Close:           slack.NewTextBlockObject(slack.PlainTextType, "Skip", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			section("Thanks for telling us. The team reads these to decide what to write next.\n*You asked:* " + esc(clip(oneLine(question), 500))),
			in,
		}},
	}
}

// onViewSubmission stores what a user wrote in a "what was wrong?" modal.
// The envelope was acked with no payload, which closes the modal.
func (b *Bot) onViewSubmission(ctx context.Context, cb *slack.InteractionCallback) error {
	if cb.View.CallbackID != CallbackGapComment {
		return nil
	}
	id, err := strconv.ParseInt(cb.View.PrivateMetadata, 10, 64)
	if err != nil {
		b.log.Warn("what-was-wrong modal with a bad id", "metadata", cb.View.PrivateMetadata)
		return nil
	}
	var comment string
	if cb.View.State != nil {
		comment = cb.View.State.Values[commentBlock][commentInput].Value
	}
	comment = clip(strings.TrimSpace(comment), maxComment)
	if comment == "" {
		return nil
	}
	ok, err := b.convo.mem.CommentGap(ctx, id, cb.User.ID, comment)
	if err != nil {
		return fmt.Errorf("store what was wrong: %w", err)
	}
	if !ok {
		b.log.Warn("what-was-wrong for a gap the user did not record", "gap", id, "user", cb.User.ID)
	}
	return nil
}

// GapGroup is one question people asked, in one or more similar wordings,
// and what became of it.
type GapGroup struct {
	// Question is the most frequent wording (the latest on a tie).
	Question string
	// Wordings are other wordings of it, most frequent first, at most 3.
	Wordings []string
	Count    int
	// Declined and NotHelpful count the records by kind.
	Declined, NotHelpful int
	// Answers are the answers marked not helpful, or the options chosen
	// for a clarified question, with counts ("scenario/x ×2").
	Answers []string
	// Comments are what people said was wrong, newest first, at most 3.
	Comments []string
	Last     time.Time
}

// GapReport is the learning loop over a period.
type GapReport struct {
	Since, Until time.Time
	// Gaps are the questions without a good answer, most asked first.
	Gaps []GapGroup
	// Clarified are the questions Shipmate had to ask back about, with the
	// options people chose.
	Clarified []GapGroup
}

// maxReportGaps bounds the records a report reads.
const maxReportGaps = 20_000

// LoadGapReport reads the gaps recorded in [since, until] and groups them.
func LoadGapReport(ctx context.Context, st GapStore, since, until time.Time) (GapReport, error) {
	gaps, err := st.Gaps(ctx, since, maxReportGaps)
	if err != nil {
		return GapReport{}, err
	}
	gaps = slices.DeleteFunc(gaps, func(g Gap) bool { return g.At.After(until) })
	return BuildGapReport(gaps, since, until), nil
}

// BuildGapReport groups gaps by similar wording: two questions are one
// group when their normalised terms overlap enough (Jaccard similarity of
// the term sets at least gapSimilarity).
func BuildGapReport(gaps []Gap, since, until time.Time) GapReport {
	r := GapReport{Since: since, Until: until}
	var missed, clarified []Gap
	for _, g := range gaps {
		if g.Kind == GapClarified {
			clarified = append(clarified, g)
		} else {
			missed = append(missed, g)
		}
	}
	r.Gaps = groupGaps(missed)
	r.Clarified = groupGaps(clarified)
	return r
}

// gapSimilarity is how much two wordings' terms must overlap to be one
// question.
const gapSimilarity = 0.5

type gapCluster struct {
	terms map[string]bool // union of the members' terms
	gaps  []Gap
}

func groupGaps(gaps []Gap) []GapGroup {
	var clusters []*gapCluster
	for _, g := range gaps {
		terms := map[string]bool{}
		for _, t := range g.Terms {
			terms[t] = true
		}
		if len(terms) == 0 { // nothing but stop words: group by the text itself
			terms[strings.ToLower(oneLine(g.Question))] = true
		}
		var best *gapCluster
		bestSim := 0.0
		for _, c := range clusters {
			if s := jaccard(terms, c.gaps); s >= gapSimilarity && s > bestSim {
				best, bestSim = c, s
			}
		}
		if best == nil {
			best = &gapCluster{terms: map[string]bool{}}
			clusters = append(clusters, best)
		}
		for t := range terms {
			best.terms[t] = true
		}
		best.gaps = append(best.gaps, g)
	}
	groups := make([]GapGroup, 0, len(clusters))
	for _, c := range clusters {
		groups = append(groups, summarize(c.gaps))
	}
	slices.SortStableFunc(groups, func(a, b GapGroup) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return b.Last.Compare(a.Last)
	})
	return groups
}

// jaccard is the best similarity of terms to any member of a cluster, so
// a cluster does not drift through a chain of loosely related wordings.
func jaccard(terms map[string]bool, members []Gap) float64 {
	best := 0.0
	for _, m := range members {
		other := map[string]bool{}
		for _, t := range m.Terms {
			other[t] = true
		}
		if len(other) == 0 {
			other[strings.ToLower(oneLine(m.Question))] = true
		}
		inter := 0
		for t := range terms {
			if other[t] {
				inter++
			}
		}
		union := len(terms) + len(other) - inter
		if union > 0 {
			best = max(best, float64(inter)/float64(union))
		}
	}
	return best
}

func summarize(gaps []Gap) GapGroup {
	g := GapGroup{Count: len(gaps)}
	wordings := map[string]int{}
	display := map[string]string{}
	last := map[string]time.Time{}
	answers := map[string]int{}
	var comments []string
	for _, x := range gaps {
		k := strings.ToLower(oneLine(x.Question))
		wordings[k]++
		display[k] = oneLine(x.Question)
		last[k] = x.At
		if x.At.After(g.Last) {
			g.Last = x.At
		}
		switch x.Kind {
		case GapDeclined:
			g.Declined++
		case GapNotHelpful:
			g.NotHelpful++
		}
		if x.Answer != "" {
			answers[x.Answer]++
		}
		if x.Comment != "" {
			comments = append(comments, oneLine(x.Comment))
		}
	}
	keys := make([]string, 0, len(wordings))
	for k := range wordings {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(wordings[b], wordings[a]); c != 0 {
			return c
		}
		if c := last[b].Compare(last[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	g.Question = display[keys[0]]
	for _, k := range keys[1:min(len(keys), 4)] {
		g.Wordings = append(g.Wordings, display[k])
	}
	as := make([]string, 0, len(answers))
	for a := range answers {
		as = append(as, a)
	}
	slices.SortFunc(as, func(a, b string) int {
		if c := cmp.Compare(answers[b], answers[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, a := range as {
		if answers[a] > 1 {
			a = fmt.Sprintf("%s ×%d", a, answers[a])
		}
		g.Answers = append(g.Answers, a)
	}
	slices.Reverse(comments)
	g.Comments = comments[:min(len(comments), 3)]
	return g
}

var (
	analyzerOnce sync.Once
	analyzer     analysis.Analyzer
)

// GapTerms returns the normalised terms of a question for grouping: Slack
// markup removed (index.Normalize), then Bleve's English analysis (lower
// case, English stop words dropped, Porter stems), each term once, sorted.
func GapTerms(question string) []string {
	analyzerOnce.Do(func() {
		a, err := registry.NewCache().AnalyzerNamed(en.AnalyzerName)
		if err != nil {
			panic(fmt.Sprintf("bleve English analyzer: %v", err)) // registered by the import above
		}
		analyzer = a
	})
	seen := map[string]bool{}
	terms := []string{}
	for _, tok := range analyzer.Analyze([]byte(index.Normalize(question))) {
		t := string(tok.Term)
		if len([]rune(t)) < 2 || seen[t] {
			continue
		}
		seen[t] = true
		terms = append(terms, t)
	}
	slices.Sort(terms)
	return terms
}

// gapPeriod reads "week", "month" (or nothing: a week).
func gapPeriod(s string) (time.Duration, string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "week", "weekly", "7d":
		return 7 * 24 * time.Hour, "the last 7 days", true
	case "month", "monthly", "30d":
		return 30 * 24 * time.Hour, "the last 30 days", true
	}
	return 0, "", false
}

// GapsCommand is `gaps [week|month]`: the learning loop, for admins
// only and always private. st holds the records; the retention bounds how
// far back they go.
func GapsCommand(st GapStore, conf Conversation, now func() time.Time) Command {
	return Command{
		Name: "gaps", Usage: "gaps [week|month]",
		Help: "Admins: the most-asked questions without a good answer, to know what to write next.",
		Run: func(ctx context.Context, c *Commands, req Request) (Reply, error) {
			if !conf.IsAdmin(req.User) {
				return Reply{Text: "Sorry, only Shipmate admins can read the gaps (the ADMINS setting).", Private: true}, nil
			}
			d, label, ok := gapPeriod(req.Args)
			if !ok {
				return Reply{Text: "Which period? `gaps week` or `gaps month`.", Private: true}, nil
			}
			if c != nil && c.written != nil {
				c.written(ctx) // a question declined a moment ago is in the report
			}
			until := now()
			since := until.Add(-min(d, max(conf.GapsRetention, 24*time.Hour)))
			r, err := LoadGapReport(ctx, st, since, until)
			if err != nil {
				return Reply{}, fmt.Errorf("gaps: %w", err)
			}
			return Reply{Gaps: &GapsReply{Report: r, Period: label}, Private: true}, nil
		},
	}
}

// GapsReply is a gap report with the period it covers, in words.
type GapsReply struct {
	Report GapReport
	Period string
}

// maxShownGroups bounds the groups a report shows.
const maxShownGroups = 15

// RenderGapsText renders a gap report for a terminal.
func RenderGapsText(g *GapsReply) string {
	var b strings.Builder
	r := g.Report
	fmt.Fprintf(&b, "Questions without a good answer, %s:\n", g.Period)
	if len(r.Gaps) == 0 {
		b.WriteString("  none: every question got an answer nobody marked unhelpful.\n")
	}
	for i, x := range r.Gaps[:min(len(r.Gaps), maxShownGroups)] {
		fmt.Fprintf(&b, "%2d. %s  (%s)\n", i+1, x.Question, gapCounts(x))
		for _, w := range x.Wordings {
			fmt.Fprintf(&b, "      also: %s\n", w)
		}
		if len(x.Answers) > 0 {
			fmt.Fprintf(&b, "      answered with: %s\n", strings.Join(x.Answers, ", "))
		}
		for _, c := range x.Comments {
			fmt.Fprintf(&b, "      what was wrong: %s\n", c)
		}
	}
	if n := len(r.Gaps) - maxShownGroups; n > 0 {
		fmt.Fprintf(&b, "    …and %d more\n", n)
	}
	if len(r.Clarified) > 0 {
		b.WriteString("\nQuestions Shipmate had to ask back about:\n")
		for i, x := range r.Clarified[:min(len(r.Clarified), maxShownGroups)] {
			fmt.Fprintf(&b, "%2d. %s  (%d×; chose %s)\n", i+1, x.Question, x.Count, strings.Join(x.Answers, ", "))
		}
	}
	return b.String()
}

func gapCounts(x GapGroup) string {
	var parts []string
	if x.Declined > 0 {
		parts = append(parts, fmt.Sprintf("%d declined", x.Declined))
	}
	if x.NotHelpful > 0 {
		parts = append(parts, fmt.Sprintf("%d not helpful", x.NotHelpful))
	}
	return fmt.Sprintf("%d×: %s", x.Count, strings.Join(parts, ", "))
}

// gapsBlocks renders a gap report for Slack.
func gapsBlocks(g *GapsReply) []slack.Block {
	r := g.Report
	bs := []slack.Block{header("Questions without a good answer"), contextBlock(esc(g.Period) + " · similar wordings grouped · most asked first")}
	if len(r.Gaps) == 0 {
		bs = append(bs, section("None: every question got an answer nobody marked unhelpful."))
	}
	for i, x := range r.Gaps[:min(len(r.Gaps), maxShownGroups)] {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d. %s*\n%s", i+1, esc(x.Question), gapCounts(x))
		for _, w := range x.Wordings {
			fmt.Fprintf(&b, "\n_also:_ %s", esc(w))
		}
		if len(x.Answers) > 0 {
			fmt.Fprintf(&b, "\n_answered with:_ %s", esc(strings.Join(x.Answers, ", ")))
		}
		for _, c := range x.Comments {
			fmt.Fprintf(&b, "\n_what was wrong:_ %s", esc(c))
		}
		bs = append(bs, section(b.String()))
	}
	if n := len(r.Gaps) - maxShownGroups; n > 0 {
		bs = append(bs, contextBlock(fmt.Sprintf("…and %d more", n)))
	}
	if len(r.Clarified) > 0 {
		var b strings.Builder
		b.WriteString("*Questions Shipmate had to ask back about*")
		for i, x := range r.Clarified[:min(len(r.Clarified), 10)] {
			fmt.Fprintf(&b, "\n%d. %s (%d×; chose %s)", i+1, esc(x.Question), x.Count, esc(strings.Join(x.Answers, ", ")))
		}
		bs = append(bs, section(b.String()))
	}
	return bs
}
