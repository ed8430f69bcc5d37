package bot

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"shipmate/content"
	"shipmate/index"
)

// Block Kit limits (api.slack.com/reference/block-kit).
const (
	maxBlocks       = 50
	maxSectionText  = 3000
	maxFieldText    = 2000
	maxHeaderText   = 150
	maxButtonText   = 75
	maxButtonValue  = 2000
	maxContextText  = 2000
	maxFallbackText = 3000
)

// Action ids of Shipmate's buttons.
const (
	ActionHelpful    = "feedback_helpful"
	ActionNotHelpful = "feedback_not_helpful"
	ActionShare      = "share"
	ActionPractice   = "practice_answer"
)

// RenderOptions says what a Slack message around a reply needs.
type RenderOptions struct {
	// Command is the text that produced the reply; the share button replays it.
	Command string
	// Share adds a "Share in channel" button (ephemeral replies).
	Share bool
	// SharedBy credits the user who shared an answer into the channel.
	SharedBy string
}

// Message is a rendered Slack message: blocks plus the plain-text fallback
// used for notifications and screen readers.
type Message struct {
	Blocks []slack.Block
	Text   string
	// encoded are Blocks encoded once (see Encoded), posted in their place.
	encoded []slack.Block
	// form is the message's fields of a chat.postMessage form, blocks and
	// text, encoded once (see Encoded): a reply posts them as they are.
	form string
}

// Options returns the slack-go options that carry the message.
func (m Message) Options() []slack.MsgOption {
	blocks := m.Blocks
	if m.encoded != nil {
		blocks = m.encoded
	}
	return []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(blocks...)}
}

// Encoded returns m with its blocks encoded to JSON now, for a message
// posted again and again: each post then copies the JSON instead of
// encoding the blocks anew, and a reply (postReply) posts the form fields
// of its blocks and text encoded here, as slack-go would encode them. m's
// blocks must not change afterwards.
func (m Message) Encoded() Message {
	enc := make([]slack.Block, len(m.Blocks))
	for i, b := range m.Blocks {
		js, err := json.Marshal(b)
		if err != nil {
			return m // posted as it is, and slack-go reports the error
		}
		enc[i] = encodedBlock{typ: b.BlockType(), id: b.ID(), json: js}
	}
	blocks, err := json.Marshal(enc) // as slack-go marshals MsgOptionBlocks
	if err != nil {
		return m
	}
	m.encoded = enc
	m.form = url.Values{"blocks": {string(blocks)}, "text": {m.Text}}.Encode()
	return m
}

// replyOptions returns the slack-go options of a reply carrying m, and
// the form fields to add to its chat.postMessage (withForm): for a message
// encoded once, its blocks and text go as they were encoded, not through
// slack-go's options.
func (m Message) replyOptions() ([]slack.MsgOption, string) {
	if m.form != "" {
		return nil, m.form
	}
	return m.Options(), ""
}

// encodedBlock is a block already encoded to JSON.
type encodedBlock struct {
	typ  slack.MessageBlockType
	id   string
	json []byte
}

func (b encodedBlock) BlockType() slack.MessageBlockType { return b.typ }
func (b encodedBlock) ID() string                        { return b.id }
func (b encodedBlock) MarshalJSON() ([]byte, error)      { return b.json, nil }

// RenderBlocks renders a reply as a Slack message within Block Kit limits,
// whatever the content.
func RenderBlocks(r Reply, name func(string) string, o RenderOptions) Message {
	var bs []slack.Block
	switch {
	case r.Answer != nil:
		bs = answerBlocks(r.Answer, name, o)
	case r.Service != nil:
		bs = serviceBlocks(r.Service, r.Note)
	case len(r.Compare) == 2:
		bs = compareBlocks(r.Compare[0], r.Compare[1])
	case r.Question != nil:
		bs = practiceBlocks(r.Question)
	case r.Help != nil:
		bs = helpBlocks(r.Help)
	case r.Gaps != nil:
		bs = gapsBlocks(r.Gaps)
	default:
		bs = []slack.Block{section(r.Text)}
	}
	if o.SharedBy != "" {
		bs = append(bs, contextBlock(fmt.Sprintf("Shared by <@%s>", o.SharedBy)))
	}
	if o.Share {
		bs = append(bs, slack.NewActionBlock("share",
			button(ActionShare, "Share in channel", o.Command, "")))
	}
	if len(bs) > maxBlocks {
		bs = bs[:maxBlocks]
	}
	text := strings.TrimSpace(RenderText(r, name))
	if r.Text == "" { // r.Text is Shipmate's own mrkdwn; the rest comes from content
		text = esc(text)
	}
	return Message{Blocks: bs, Text: clip(text, maxFallbackText)}
}

func answerBlocks(a *index.Answer, name func(string) string, o RenderOptions) []slack.Block {
	top := a.Top()
	if top == nil {
		if ask := clarifyBlocks(a); ask != nil {
			return ask // no best guess, but a question back
		}
		return []slack.Block{section(mrkdwnDecline)}
	}
	var bs []slack.Block
	verdict := func() {
		if v := VerdictText(a.Verdict, name); v != "" {
			bs = append(bs, section(esc(v)))
		}
	}
	if s := top.Scenario; s != nil {
		bs = append(bs, header(s.Answer))
		verdict()
		bs = append(bs, section(fmt.Sprintf("*Why:* %s", esc(strings.TrimSpace(s.Because)))))
		for _, c := range top.Caveats {
			bs = append(bs, contextBlock(":warning: "+esc(c)))
		}
		if len(s.Consider) > 0 {
			var b strings.Builder
			b.WriteString("*Consider instead when…*")
			for _, alt := range s.Consider {
				fmt.Fprintf(&b, "\n• *%s*: %s", esc(serviceNames(alt.Use, name)), esc(strings.TrimSpace(alt.When)))
			}
			bs = append(bs, section(b.String()))
		}
	} else {
		bs = append(bs, header(top.Title))
		verdict()
		for _, c := range top.Caveats {
			bs = append(bs, contextBlock(":warning: "+esc(c)))
		}
		bs = append(bs, section(esc(firstParagraph(top.Note.Body))))
	}
	if n := top.Note; n != nil && top.Scenario != nil {
		bs = append(bs, section(fmt.Sprintf("*Related concept: %s*\n%s", esc(n.Title), esc(firstParagraph(n.Body)))))
	}
	bs = append(bs, contextBlock("Services: "+esc(serviceNames(top.Services, name))))
	if n := top.Note; n != nil {
		if c := learnMoreBlock(n.Sources, n.Reviewed); c != nil {
			bs = append(bs, c)
		}
	}
	if len(a.Answers) > 1 {
		var b strings.Builder
		b.WriteString("*Runners-up*")
		for _, h := range a.Answers[1:] {
			fmt.Fprintf(&b, "\n• %s", esc(runnerUp(h, name)))
		}
		bs = append(bs, section(b.String()))
	}
	if c := a.Clarify; c != nil {
		var b strings.Builder
		b.WriteString("*" + esc(c.Question) + "*")
		for _, o := range c.Options {
			fmt.Fprintf(&b, "\n• %s", esc(o.Label))
		}
		bs = append(bs, section(b.String()))
	}
	// The value carries what was answered and to what, so the feedback log
	// tells content editors which answer missed.
	value := clip(top.Kind+"/"+top.ID+"\n"+a.Question, maxButtonValue)
	bs = append(bs, clarifyBlocks(a)...)
	bs = append(bs, slack.NewActionBlock("feedback",
		button(ActionHelpful, "Helpful", value, ""),
		button(ActionNotHelpful, "Not helpful", value, "")))
	return bs
}

// mrkdwnDecline is Decline for Slack.
const mrkdwnDecline = "I don't know that one. I answer questions about running containers on AWS: " +
	"ECS, EKS, Fargate, the EC2 launch type, ECR, App Runner and Lambda container images.\n" +
	"Try _which service for a quick container web service?_, `explain fargate` or `compare ecs eks`."

func serviceBlocks(s *content.Service, n *content.Note) []slack.Block {
	bs := []slack.Block{header(s.Name), section(esc(s.Summary))}
	if s.Caveat != "" {
		bs = append(bs, contextBlock(":warning: "+esc(s.Caveat)))
	}
	bs = append(bs, fieldsSection("",
		"*You manage*\n"+esc(s.Control), "*Pricing*\n"+esc(s.Pricing),
		"*Pick it when*\n"+esc(s.PickWhen), "*Avoid it when*\n"+esc(s.AvoidWhen)))
	if n != nil {
		bs = append(bs, section(fmt.Sprintf("*%s*\n%s", esc(n.Title), esc(n.Body))))
	}
	if c := learnMoreBlock(s.Sources, s.Reviewed); c != nil {
		bs = append(bs, c)
	}
	return bs
}

// learnMoreBlock links the documentation pages behind an answer and says
// when they were last checked; nil when there are none.
func learnMoreBlock(sources []string, reviewed content.Date) slack.Block {
	if len(sources) == 0 {
		return nil
	}
	links := make([]string, len(sources))
	for i, u := range sources {
		links[i] = fmt.Sprintf("<%s|%s>", escaper.Replace(u), esc(sourceLabel(u)))
	}
	text := ":books: *Learn more:* " + strings.Join(links, " · ")
	if !reviewed.IsZero() {
		text += " · _checked " + reviewed.Long() + "_"
	}
	return contextBlock(text)
}

// sourceLabel names a documentation page by the first and last parts of
// its path: ".../AmazonECS/latest/developerguide/express-service-work.html"
// is "AmazonECS: express service work"; a bare host is the host.
func sourceLabel(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		rest = u
	}
	host, p, _ := strings.Cut(rest, "/")
	p, _, _ = strings.Cut(p, "#")
	p, _, _ = strings.Cut(p, "?")
	parts := strings.FieldsFunc(p, func(r rune) bool { return r == '/' })
	if len(parts) == 0 {
		return host
	}
	last := strings.TrimSuffix(strings.TrimSuffix(parts[len(parts)-1], ".html"), ".htm")
	if last == "" || last == "index" {
		return host
	}
	last = wordBreaks.Replace(last)
	if len(parts) == 1 {
		return last
	}
	return parts[0] + ": " + last
}

// wordBreaks turns the separators of a path's words into spaces.
var wordBreaks = strings.NewReplacer("-", " ", "_", " ")

func compareBlocks(a, b content.Service) []slack.Block {
	bs := []slack.Block{header(a.Name + " vs " + b.Name)}
	for _, row := range compareRows {
		bs = append(bs, fieldsSection("*"+row.label+"*",
			"*"+esc(a.Name)+"*\n"+esc(row.get(&a)), "*"+esc(b.Name)+"*\n"+esc(row.get(&b))))
	}
	return bs
}

func practiceBlocks(q *content.Question) []slack.Block {
	var b strings.Builder
	fmt.Fprintf(&b, "*Practice question* (%s, %s)\n%s\n", esc(q.Topic), esc(q.Difficulty), esc(q.Question))
	var buttons []slack.BlockElement
	for i, c := range q.Choices {
		fmt.Fprintf(&b, "\n*%c)* %s", Letters[i], esc(c.Text))
		buttons = append(buttons, button(ActionPractice+"_"+strconv.Itoa(i), fmt.Sprintf("%c) %s", Letters[i], c.Text), q.ID+"|"+strconv.Itoa(i), ""))
	}
	return []slack.Block{section(b.String()), slack.NewActionBlock("practice", buttons...)}
}

func helpBlocks(cmds []Command) []slack.Block {
	var b strings.Builder
	b.WriteString("Ask me which AWS container service fits a need: mention me, DM me, or use `/shipmate`.\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "\n• `/shipmate %s`: %s", esc(c.Usage), esc(c.Help))
	}
	return []slack.Block{section(b.String())}
}

// GradeBlocks renders the private feedback on a practice answer.
func GradeBlocks(q *content.Question, choice int, note *content.Note) Message {
	text := esc(Grade(q, choice, note))
	return Message{Blocks: []slack.Block{section(text)}, Text: clip(text, maxFallbackText)}
}

// esc escapes the characters Slack reads as markup in mrkdwn (&, <, >), for
// text from content: "ask <question>" would otherwise show as a link. Only
// Shipmate's own markup, such as the <@U…> of "Shared by", goes unescaped.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

var (
	mdBold    = regexp.MustCompile(`\*\*([^*\n]+)\*\*`)
	mdHeading = regexp.MustCompile(`(?m)^#{1,6}\s+(.+)$`)
	mdLink    = regexp.MustCompile(`\[([^\]\n]+)\]\((https?://[^)\s]+)\)`)
)

// esc turns content text (Markdown) into Slack mrkdwn: &, < and > are
// escaped so they cannot form links or mentions, **bold** and headings
// become *bold*, and [text](url) becomes a Slack link.
//
// Content is static, so results are remembered (escCache): the regexps
// used to run over the same note bodies for every reply.
func esc(s string) string {
	if out, ok := escCache.get(s); ok {
		return out
	}
	out := escaper.Replace(s)
	if strings.Contains(out, "**") {
		out = mdBold.ReplaceAllString(out, "*$1*")
	}
	if strings.Contains(out, "#") {
		out = mdHeading.ReplaceAllString(out, "*$1*")
	}
	if strings.Contains(out, "](") {
		out = mdLink.ReplaceAllString(out, "<$2|$1>")
	}
	escCache.put(s, out)
	return out
}

// escCache remembers esc's results in two generations: entries used again
// (content) are carried into the next generation, one-off text (questions)
// falls out, so the cache stays bounded without bookkeeping per entry.
var escCache = &memo{max: 4096}

type memo struct {
	mu        sync.Mutex
	max       int
	cur, prev map[string]string
}

func (m *memo) get(k string) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.cur[k]; ok {
		return v, true
	}
	if v, ok := m.prev[k]; ok {
		m.putLocked(k, v)
		return v, true
	}
	return "", false
}

func (m *memo) put(k, v string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.putLocked(k, v)
}

func (m *memo) putLocked(k, v string) {
	if len(m.cur) >= m.max || m.cur == nil {
		m.prev, m.cur = m.cur, make(map[string]string, m.max)
	}
	m.cur[k] = v
}

func header(text string) slack.Block {
	return slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, clip(oneLine(text), maxHeaderText), false, false))
}

func section(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, clip(text, maxSectionText), false, false), nil, nil)
}

func fieldsSection(text string, fields ...string) slack.Block {
	var t *slack.TextBlockObject
	if text != "" {
		t = slack.NewTextBlockObject(slack.MarkdownType, clip(text, maxSectionText), false, false)
	}
	fs := make([]*slack.TextBlockObject, 0, len(fields))
	for _, f := range fields {
		fs = append(fs, slack.NewTextBlockObject(slack.MarkdownType, clip(f, maxFieldText), false, false))
	}
	return slack.NewSectionBlock(t, fs, nil)
}

func contextBlock(text string) slack.Block {
	return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, clip(text, maxContextText), false, false))
}

func button(actionID, label, value, style string) *slack.ButtonBlockElement {
	b := slack.NewButtonBlockElement(actionID, clip(value, maxButtonValue),
		slack.NewTextBlockObject(slack.PlainTextType, clip(oneLine(label), maxButtonText), false, false))
	if style != "" {
		b.Style = slack.Style(style)
	}
	return b
}

// clip cuts s to at most n characters, marking the cut with an ellipsis.
// Slack counts characters, not bytes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return truncate(s, n-1) + "…"
}

func truncate(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func firstParagraph(s string) string {
	p, _, _ := strings.Cut(strings.TrimSpace(s), "\n\n")
	return p
}
