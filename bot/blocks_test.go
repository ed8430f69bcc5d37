package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"shipmate/bot"
	"shipmate/content"
	"shipmate/index"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func answer(t *testing.T, question string) *index.Answer {
	t.Helper()
	a, err := sharedIndex(t).Answer(context.Background(), index.Query{Text: question})
	if err != nil {
		t.Fatalf("Answer(%q): %v", question, err)
	}
	return &a
}

// TestRenderBlocksGolden compares rendered messages with
// testdata/golden/*.json; run with -update to rewrite them after a deliberate
// change, and review the diff.
func TestRenderBlocksGolden(t *testing.T) {
	t.Parallel()
	ix := sharedIndex(t)
	base := ix.Base()
	fargate := base.Service("fargate")

	scenario := answer(t, "run containers without managing servers")
	if top := scenario.Top(); top == nil || top.Kind != "scenario" {
		t.Fatalf("scenario question answered with %+v, want a confident scenario", scenario)
	}
	note := answer(t, "what is fargate spot")
	if top := note.Top(); top == nil || top.Kind != "note" {
		t.Fatalf("note question answered with %+v, want a confident note", note)
	}
	// A note about a service closed to new customers carries its status.
	closed := answer(t, "does app runner autoscale or do I configure that")
	if top := closed.Top(); top == nil || top.Kind != "note" || len(top.Caveats) == 0 {
		t.Fatalf("App Runner note question answered with %+v, want a confident note with the service's caveat", closed)
	}
	decline := answer(t, "how do I bake sourdough bread")
	if decline.Confident {
		t.Fatalf("out-of-domain question answered confidently: %+v", decline)
	}
	q := base.Questions[0]

	tests := []struct {
		name  string
		reply bot.Reply
		opts  bot.RenderOptions
	}{
		{"scenario-answer", bot.Reply{Answer: scenario}, bot.RenderOptions{Command: scenario.Question, Share: true}},
		{"note-answer", bot.Reply{Answer: note}, bot.RenderOptions{Command: note.Question}},
		{"closed-note-answer", bot.Reply{Answer: closed}, bot.RenderOptions{Command: closed.Question}},
		{"decline", bot.Reply{Answer: decline}, bot.RenderOptions{Command: decline.Question}},
		{"explain", bot.Reply{Service: fargate, Note: base.Note(fargate.Note)}, bot.RenderOptions{Command: "explain fargate", Share: true}},
		{"compare", bot.Reply{Compare: []content.Service{*base.Service("ecs"), *base.Service("eks")}}, bot.RenderOptions{Command: "compare ecs eks", Share: true}},
		{"practice", bot.Reply{Question: &q}, bot.RenderOptions{Command: "quiz"}},
		{"help", bot.Reply{Help: bot.NewCommands(ix, base).Table()}, bot.RenderOptions{Command: "help"}},
		{"shared-explain", bot.Reply{Service: fargate, Note: base.Note(fargate.Note)}, bot.RenderOptions{Command: "explain fargate", SharedBy: "U7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg := bot.RenderBlocks(tt.reply, ix.ServiceName, tt.opts)
			checkGolden(t, tt.name, msg)
			checkLimits(t, msg)
		})
	}
	t.Run("grade", func(t *testing.T) {
		t.Parallel()
		msg := bot.GradeBlocks(&q, (q.Correct()+1)%len(q.Choices), base.Note(q.Note))
		checkGolden(t, "grade-wrong", msg)
		checkLimits(t, msg)
	})
}

func checkGolden(t *testing.T, name string, msg bot.Message) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep < > & readable in the files
	enc.SetIndent("", "  ")
	err := enc.Encode(struct {
		Text   string `json:"text"`
		Blocks any    `json:"blocks"`
	}{msg.Text, msg.Blocks})
	if err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./bot -run TestRenderBlocksGolden -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("RenderBlocks(%s) differs from %s (run with -update if the change is wanted):\n%s", name, path, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows the first lines that differ, enough to see what changed.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

// Block Kit limits, from Slack's reference, counted in characters.
const (
	limitBlocks      = 50
	limitSectionText = 3000
	limitFields      = 10
	limitFieldText   = 2000
	limitHeaderText  = 150
	limitContextEls  = 10
	limitTextObject  = 3000
	limitElements    = 25
	limitButtonText  = 75
	limitButtonValue = 2000
	limitActionID    = 255
	limitBlockID     = 255
	limitFallback    = 40000
)

// checkLimits fails the test if msg breaks a Block Kit limit Slack would
// refuse (invalid_blocks) or cut.
func checkLimits(t *testing.T, msg bot.Message) {
	t.Helper()
	raw, err := json.Marshal(msg.Blocks)
	if err != nil {
		t.Fatalf("blocks do not marshal: %v", err)
	}
	var blocks []map[string]any
	if err := json.Unmarshal(raw, &blocks); err != nil {
		t.Fatal(err)
	}
	errorf := func(i int, format string, args ...any) {
		t.Helper()
		t.Errorf("block %d (%v): %s", i, blocks[i]["type"], fmt.Sprintf(format, args...))
	}
	if n := len(blocks); n == 0 || n > limitBlocks {
		t.Errorf("%d blocks, want 1 to %d", n, limitBlocks)
	}
	if n := runes(msg.Text); n == 0 || n > limitFallback {
		t.Errorf("text fallback has %d characters, want 1 to %d", n, limitFallback)
	}
	checkEscaped(t, "text fallback", msg.Text)
	mrkdwn := func(i int, what string, v any) {
		t.Helper()
		if m, ok := v.(map[string]any); ok && m["type"] == "mrkdwn" {
			text, _ := m["text"].(string)
			checkEscaped(t, fmt.Sprintf("block %d %s", i, what), text)
		}
	}
	blockIDs := map[string]bool{}
	for i, b := range blocks {
		if id, _ := b["block_id"].(string); id != "" {
			if blockIDs[id] {
				errorf(i, "block_id %q repeated", id)
			}
			blockIDs[id] = true
			if runes(id) > limitBlockID {
				errorf(i, "block_id has %d characters", runes(id))
			}
		}
		switch b["type"] {
		case "section":
			text, hasText := textOf(b["text"])
			fields, _ := b["fields"].([]any)
			if !hasText && len(fields) == 0 {
				errorf(i, "section has neither text nor fields")
			}
			if hasText && (runes(text) == 0 || runes(text) > limitSectionText) {
				errorf(i, "section text has %d characters, want 1 to %d", runes(text), limitSectionText)
			}
			mrkdwn(i, "text", b["text"])
			for j, f := range fields {
				mrkdwn(i, fmt.Sprint("field ", j), f)
			}
			if len(fields) > limitFields {
				errorf(i, "%d fields, want at most %d", len(fields), limitFields)
			}
			for j, f := range fields {
				ft, _ := textOf(f)
				if runes(ft) == 0 || runes(ft) > limitFieldText {
					errorf(i, "field %d has %d characters, want 1 to %d", j, runes(ft), limitFieldText)
				}
			}
		case "header":
			text, _ := textOf(b["text"])
			if runes(text) == 0 || runes(text) > limitHeaderText {
				errorf(i, "header has %d characters, want 1 to %d", runes(text), limitHeaderText)
			}
			if typ := b["text"].(map[string]any)["type"]; typ != "plain_text" {
				errorf(i, "header text is %v, want plain_text", typ)
			}
		case "context":
			els, _ := b["elements"].([]any)
			if len(els) == 0 || len(els) > limitContextEls {
				errorf(i, "%d context elements, want 1 to %d", len(els), limitContextEls)
			}
			for j, e := range els {
				mrkdwn(i, fmt.Sprint("element ", j), e)
				if text, ok := textOf(e); ok && (runes(text) == 0 || runes(text) > limitTextObject) {
					errorf(i, "context element %d has %d characters", j, runes(text))
				}
			}
		case "actions":
			els, _ := b["elements"].([]any)
			if len(els) == 0 || len(els) > limitElements {
				errorf(i, "%d elements, want 1 to %d", len(els), limitElements)
			}
			ids := map[string]bool{}
			for j, e := range els {
				m := e.(map[string]any)
				id, _ := m["action_id"].(string)
				if id == "" || runes(id) > limitActionID {
					errorf(i, "element %d action_id %q: want 1 to %d characters", j, id, limitActionID)
				}
				if ids[id] {
					errorf(i, "action_id %q repeated in the block", id)
				}
				ids[id] = true
				if m["type"] != "button" {
					continue
				}
				label, _ := textOf(m["text"])
				if runes(label) == 0 || runes(label) > limitButtonText {
					errorf(i, "button %d label has %d characters, want 1 to %d", j, runes(label), limitButtonText)
				}
				if v, _ := m["value"].(string); runes(v) > limitButtonValue {
					errorf(i, "button %d value has %d characters, want at most %d", j, runes(v), limitButtonValue)
				}
			}
		case "divider":
		default:
			errorf(i, "unexpected block type")
		}
	}
}

// slackMarkup is what may appear between < and > in mrkdwn: mentions,
// channels, special mentions and links. Anything else must be escaped.
var (
	slackMarkup = regexp.MustCompile(`<(?:[@#!][^<>]*|(?:https?|mailto):[^<>]*)>`)
	entity      = regexp.MustCompile(`&(?:amp|lt|gt);`)
)

// checkEscaped fails the test if mrkdwn text has a bare &, < or >, which
// Slack reads as markup: "<question>" would show as a link.
func checkEscaped(t *testing.T, what, text string) {
	t.Helper()
	rest := entity.ReplaceAllString(slackMarkup.ReplaceAllString(text, ""), "")
	if i := strings.IndexAny(rest, "&<>"); i >= 0 {
		t.Errorf("%s has an unescaped %q near %q", what, rest[i], rest[max(0, i-30):min(len(rest), i+30)])
	}
}

func textOf(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	s, ok := m["text"].(string)
	return s, ok
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// TestRenderBlocksLimits renders everything in the content, and inputs far
// past any sane size, and checks each message against Block Kit's limits.
func TestRenderBlocksLimits(t *testing.T) {
	t.Parallel()
	ix := sharedIndex(t)
	base := ix.Base()
	name := ix.ServiceName
	type tc struct {
		name  string
		reply bot.Reply
		opts  bot.RenderOptions
	}
	var cases []tc
	add := func(name string, r bot.Reply, o bot.RenderOptions) {
		cases = append(cases, tc{name, r, o})
		// Every reply also as an ephemeral slash answer and as a shared one.
		o.Share, o.SharedBy = true, "U1"
		cases = append(cases, tc{name + " (share, shared)", r, o})
	}

	// Every scenario and note as the recommendation, with runners-up.
	var hits []index.Hit
	for i := range base.Scenarios {
		s := &base.Scenarios[i]
		hits = append(hits, index.Hit{ID: s.ID, Kind: "scenario", Title: s.Need, Services: s.Use, Scenario: s, Note: base.Note(s.Note)})
	}
	for i := range base.Notes {
		n := &base.Notes[i]
		hits = append(hits, index.Hit{ID: n.ID, Kind: "note", Title: n.Title, Services: n.Services, Note: n})
	}
	for i, h := range hits {
		runnersUp := []index.Hit{h, hits[(i+1)%len(hits)], hits[(i+2)%len(hits)], hits[(i+3)%len(hits)]}
		a := &index.Answer{Question: h.Title, Confident: true, Answers: runnersUp}
		add(h.Kind+" "+h.ID, bot.Reply{Answer: a}, bot.RenderOptions{Command: h.Title})
	}
	// The real answers to every scenario's need and examples.
	for _, s := range base.Scenarios {
		for _, q := range append([]string{s.Need}, s.Examples...) {
			add("answer "+q, bot.Reply{Answer: answer(t, q)}, bot.RenderOptions{Command: q})
		}
	}
	for i := range base.Services {
		s := &base.Services[i]
		add("explain "+s.ID, bot.Reply{Service: s, Note: base.Note(s.Note)}, bot.RenderOptions{Command: "explain " + s.ID})
		for _, o := range base.Services {
			if o.ID != s.ID {
				add("compare "+s.ID+" "+o.ID, bot.Reply{Compare: []content.Service{*s, o}}, bot.RenderOptions{})
			}
		}
	}
	for i := range base.Questions {
		q := &base.Questions[i]
		add("practice "+q.ID, bot.Reply{Question: q}, bot.RenderOptions{Command: "quiz"})
		for c := range q.Choices {
			cases = append(cases, tc{name: fmt.Sprintf("grade %s %d", q.ID, c)}) // checked below
		}
	}
	add("help", bot.Reply{Help: bot.NewCommands(ix, base).Table()}, bot.RenderOptions{})

	// Synthetic giants.
	// huge is n characters, some of them multi-byte, as Slack counts them.
	huge := func(n int) string { return string([]rune(strings.Repeat("é🚢 containers ", n/14+1))[:n]) }
	hugeQ := strings.Repeat("which service should run my containers without servers? ", 200)[:10_000]
	many := make([]content.Alternative, 100)
	for i := range many {
		many[i] = content.Alternative{Use: []string{"ecs", "eks", "fargate"}, When: huge(300)}
	}
	giant := content.Scenario{ID: "giant", Need: huge(500), Use: []string{"ecs", "fargate"}, Answer: huge(400), Because: huge(5000), Consider: many, Note: "fargate"}
	giantNote := content.Note{ID: "giant-note", Title: huge(400), Services: []string{"ecs"}, Body: huge(20_000)}
	var hundred []index.Hit
	for range 100 {
		hundred = append(hundred, index.Hit{Kind: "note", Title: huge(200), Services: []string{"ecs", "eks", "fargate", "ec2", "ecr", "app-runner", "lambda"}, Note: &giantNote})
	}
	giantService := content.Service{ID: "giant", Name: huge(300), Summary: huge(5000), Control: huge(3000), Pricing: huge(3000), PickWhen: huge(3000), AvoidWhen: huge(3000), Note: "fargate"}
	giantQuestion := content.Question{ID: huge(300), Topic: "ecs", Difficulty: "hard", Question: huge(4000), Note: "fargate"}
	for i := range 5 {
		giantQuestion.Choices = append(giantQuestion.Choices, content.Choice{Text: huge(600), Correct: i == 2, Why: huge(1000)})
	}
	manyCommands := bot.NewCommands(ix, base).Table()
	for i := range 40 {
		manyCommands = append(manyCommands, bot.Command{Name: fmt.Sprint("extra", i), Usage: huge(100), Help: huge(300)})
	}
	add("10k question", bot.Reply{Answer: &index.Answer{Question: hugeQ, Confident: true, Answers: hits[:4]}}, bot.RenderOptions{Command: hugeQ})
	add("10k question declined", bot.Reply{Answer: &index.Answer{Question: hugeQ}}, bot.RenderOptions{Command: hugeQ})
	add("100 consider items", bot.Reply{Answer: &index.Answer{Question: "q", Confident: true, Answers: []index.Hit{
		{Kind: "scenario", Title: giant.Need, Services: giant.Use, Scenario: &giant, Note: &giantNote}}}}, bot.RenderOptions{Command: hugeQ})
	add("100 runners-up", bot.Reply{Answer: &index.Answer{Question: hugeQ, Confident: true, Answers: hundred}}, bot.RenderOptions{Command: "q"})
	add("giant service", bot.Reply{Service: &giantService, Note: &giantNote}, bot.RenderOptions{Command: "explain giant"})
	add("giant compare", bot.Reply{Compare: []content.Service{giantService, giantService}}, bot.RenderOptions{Command: "compare"})
	add("giant question", bot.Reply{Question: &giantQuestion}, bot.RenderOptions{Command: "quiz"})
	add("many commands", bot.Reply{Help: manyCommands}, bot.RenderOptions{})
	add("giant text", bot.Reply{Text: huge(50_000)}, bot.RenderOptions{})

	// Slack's reserved characters in content: shown as text, never as markup.
	const reserved = "push to <registry>/<repo> & pull; p99 > 50ms, <b>bold</b> &amp; <https://x|y>"
	odd := content.Scenario{ID: "odd", Need: reserved, Use: []string{"ecr"}, Answer: reserved, Because: reserved,
		Consider: []content.Alternative{{Use: []string{"ecs"}, When: reserved}}, Note: "ecr"}
	oddNote := content.Note{ID: "odd-note", Title: reserved, Services: []string{"ecr"}, Body: reserved + "\n\n" + reserved}
	oddService := content.Service{ID: "odd", Name: reserved, Summary: reserved, Control: reserved, Pricing: reserved, PickWhen: reserved, AvoidWhen: reserved}
	oddQuestion := content.Question{ID: "odd", Topic: "ecr", Difficulty: "easy", Question: reserved, Note: "ecr",
		Choices: []content.Choice{{Text: reserved, Correct: true, Why: reserved}, {Text: reserved + "!", Why: reserved}}}
	oddHits := []index.Hit{{Kind: "scenario", Title: reserved, Services: []string{"ecr"}, Scenario: &odd, Note: &oddNote},
		{Kind: "note", Title: reserved, Services: []string{"ecr"}, Note: &oddNote}}
	add("reserved characters in a scenario", bot.Reply{Answer: &index.Answer{Question: reserved, Confident: true, Answers: oddHits}}, bot.RenderOptions{Command: reserved})
	add("reserved characters in a note", bot.Reply{Answer: &index.Answer{Question: reserved, Confident: true, Answers: oddHits[1:]}}, bot.RenderOptions{Command: reserved})
	add("reserved characters in a service", bot.Reply{Service: &oddService, Note: &oddNote}, bot.RenderOptions{Command: reserved})
	add("reserved characters in a compare", bot.Reply{Compare: []content.Service{oddService, *base.Service("ecr")}}, bot.RenderOptions{Command: reserved})
	add("reserved characters in a question", bot.Reply{Question: &oddQuestion}, bot.RenderOptions{Command: reserved})
	add("reserved characters in help", bot.Reply{Help: []bot.Command{{Name: "x", Usage: reserved, Help: reserved}}}, bot.RenderOptions{})

	for _, c := range cases {
		if c.reply.Answer == nil && c.reply.Service == nil && c.reply.Compare == nil &&
			c.reply.Question == nil && c.reply.Help == nil && c.reply.Text == "" {
			continue // grades, below
		}
		t.Run(c.name, func(t *testing.T) { checkLimits(t, bot.RenderBlocks(c.reply, name, c.opts)) })
	}
	questions := append(base.Questions, giantQuestion, oddQuestion)
	for i := range questions {
		q := &questions[i]
		for c := range q.Choices {
			t.Run(fmt.Sprintf("grade %d/%d", i, c), func(t *testing.T) {
				checkLimits(t, bot.GradeBlocks(q, c, base.Note(q.Note)))
				checkLimits(t, bot.GradeBlocks(q, c, &giantNote))
			})
		}
	}
}
