package bot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"shipmate/content"
	"shipmate/index"
)

// Letters label quiz choices.
const Letters = "ABCDE"

// RenderText renders a reply for a terminal.
func RenderText(r Reply, name func(id string) string) string {
	var b strings.Builder
	switch {
	case r.Answer != nil:
		writeAnswerText(&b, r.Answer, name)
	case r.Service != nil:
		s := r.Service
		fmt.Fprintf(&b, "%s\n%s\n\n", s.Name, s.Summary)
		if s.Caveat != "" {
			fmt.Fprintf(&b, "Heads-up: %s\n\n", s.Caveat)
		}
		fmt.Fprintf(&b, "You manage:  %s\nPricing:     %s\nPick it when: %s\nAvoid it when: %s\n", s.Control, s.Pricing, s.PickWhen, s.AvoidWhen)
		if r.Note != nil {
			fmt.Fprintf(&b, "\n%s\n%s\n", r.Note.Title, r.Note.Body)
		}
		if line := learnMore(s.Sources, s.Reviewed); line != "" {
			fmt.Fprintf(&b, "\n%s\n", line)
		}
	case len(r.Compare) == 2:
		a, c := r.Compare[0], r.Compare[1]
		fmt.Fprintf(&b, "%s vs %s\n", a.Name, c.Name)
		for _, row := range compareRows {
			fmt.Fprintf(&b, "\n%s\n  %s: %s\n  %s: %s\n", row.label, a.Name, row.get(&a), c.Name, row.get(&c))
		}
	case r.Question != nil:
		q := r.Question
		fmt.Fprintf(&b, "%s\n", q.Question)
		for i, c := range q.Choices {
			fmt.Fprintf(&b, "  %c) %s\n", Letters[i], c.Text)
		}
	case r.Gaps != nil:
		b.WriteString(RenderGapsText(r.Gaps))
	case r.Help != nil:
		b.WriteString("Ask me which AWS container service fits a need, or use a command:\n")
		for _, c := range r.Help {
			fmt.Fprintf(&b, "  %-30s %s\n", c.Usage, c.Help)
		}
	default:
		b.WriteString(r.Text)
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func writeAnswerText(b *strings.Builder, a *index.Answer, name func(string) string) {
	top := a.Top()
	if top == nil && a.Clarify == nil {
		b.WriteString(Decline + "\n")
		return
	}
	if v := VerdictText(a.Verdict, name); v != "" {
		b.WriteString(v + "\n\n")
	}
	if top != nil {
		b.WriteString(HitText(top, name) + "\n")
		if n := top.Note; n != nil {
			if line := learnMore(n.Sources, n.Reviewed); line != "" {
				b.WriteString(line + "\n")
			}
		}
	}
	if len(a.Answers) > 1 && top != nil {
		b.WriteString("\nAlso relevant:\n")
		for _, h := range a.Answers[1:] {
			fmt.Fprintf(b, "  - %s\n", runnerUp(h, name))
		}
	}
	if c := a.Clarify; c != nil {
		fmt.Fprintf(b, "\n%s\n", c.Question)
		for i, o := range c.Options {
			fmt.Fprintf(b, "  %d. %s\n", i+1, o.Label)
		}
	}
}

// VerdictText answers "can X do Y?" in one line, or says why the service
// being left cannot meet a need: "No: Fargate offers no GPUs. Instead, run
// the tasks on EC2 GPU instances …". It is "" without a verdict.
func VerdictText(v *index.Verdict, name func(string) string) string {
	if v == nil {
		return ""
	}
	if v.Can {
		return fmt.Sprintf("Yes: %s can do that (%s).", name(v.Service), v.Need)
	}
	lead := fmt.Sprintf("Why not %s:", name(v.Service))
	if v.Asked {
		lead = "No:"
	}
	text := fmt.Sprintf("%s %s", lead, sentence(v.Limit))
	if v.Way != "" {
		text += " Instead, " + strings.TrimSuffix(strings.TrimSpace(v.Way), ".") + "."
	}
	return text
}

// sentence starts s with a capital letter and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	s = string(unicode.ToUpper(r)) + s[n:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// HitText is the plain text of one answer: a scenario's recommendation,
// why, its caveats, when to consider something else and the note to read;
// or a note's title, caveats and body.
func HitText(h *index.Hit, name func(string) string) string {
	s := h.Scenario
	if s == nil {
		if h.Note == nil {
			return h.Title
		}
		var b strings.Builder
		b.WriteString(h.Note.Title + "\n")
		for _, c := range h.Caveats {
			fmt.Fprintf(&b, "Heads-up: %s\n", c)
		}
		b.WriteString(h.Note.Body)
		return b.String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Recommendation: %s\n%s\n", strings.TrimSuffix(s.Answer, "."), strings.TrimSpace(s.Because))
	for _, c := range h.Caveats {
		fmt.Fprintf(&b, "Heads-up: %s\n", c)
	}
	if len(s.Consider) > 0 {
		b.WriteString("Consider instead:\n")
		for _, a := range s.Consider {
			fmt.Fprintf(&b, "- %s when %s\n", serviceList(a.Use, name), strings.TrimSpace(a.When))
		}
	}
	if h.Note != nil {
		fmt.Fprintf(&b, "Read more: %s", h.Note.Title)
	}
	return strings.TrimSpace(b.String())
}

// learnMore is the line that says where an answer's facts come from and
// when they were last checked against those pages.
func learnMore(sources []string, reviewed content.Date) string {
	if len(sources) == 0 {
		return ""
	}
	line := "Learn more: " + strings.Join(sources, " ")
	if !reviewed.IsZero() {
		line += " (checked " + reviewed.String() + ")"
	}
	return line
}

// serviceList names services as "ECS, Fargate + EC2".
func serviceList(ids []string, name func(string) string) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = name(id)
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " + " + names[len(names)-1]
}

// RenderJSON renders an answer as the one-line JSON object of
// `shipmate ask --json`: the answer with each hit's text.
func RenderJSON(a *index.Answer, name func(string) string) ([]byte, error) {
	type hit struct {
		ID       string   `json:"id"`
		Kind     string   `json:"kind"`
		Title    string   `json:"title"`
		Services []string `json:"services"`
		Text     string   `json:"text"`
		Score    float64  `json:"score"`
		// Sources are the documentation pages behind the hit, checked on
		// Reviewed (YYYY-MM-DD).
		Sources  []string `json:"sources,omitempty"`
		Reviewed string   `json:"reviewed,omitempty"`
	}
	out := struct {
		Question  string         `json:"question"`
		Confident bool           `json:"confident"`
		Answers   []hit          `json:"answers"`
		Clarify   *index.Clarify `json:"clarify,omitempty"`
	}{Question: a.Question, Confident: a.Confident, Answers: []hit{}, Clarify: a.Clarify}
	for i := range a.Answers {
		h := &a.Answers[i]
		text := HitText(h, name)
		if v := VerdictText(a.Verdict, name); i == 0 && v != "" {
			text = v + "\n\n" + text
		}
		j := hit{ID: h.ID, Kind: h.Kind, Title: h.Title, Services: h.Services, Text: text, Score: h.Score}
		if n := h.Note; n != nil {
			j.Sources, j.Reviewed = n.Sources, n.Reviewed.String()
		}
		out.Answers = append(out.Answers, j)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err := enc.Encode(out)
	return b.Bytes(), err
}

// runnerUp describes an alternative answer in one line: what the scenario
// is for and what it recommends, or the note's title.
func runnerUp(h index.Hit, name func(string) string) string {
	if s := h.Scenario; s != nil {
		return fmt.Sprintf("%s: %s", strings.TrimSuffix(s.Need, "."), strings.TrimSuffix(s.Answer, "."))
	}
	return fmt.Sprintf("%s (%s)", h.Title, serviceNames(h.Services, name))
}

// Decline is said when no answer is good enough.
const Decline = "I don't know that one. I answer questions about running containers on AWS: " +
	"ECS, EKS, Fargate, the EC2 launch type, ECR, App Runner and Lambda container images. " +
	"Try \"which service for a quick container web service?\", `explain fargate` or `compare ecs eks`."

func serviceNames(ids []string, name func(string) string) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = name(id)
	}
	return strings.Join(names, " + ")
}

// compareRows are the rows of the side-by-side comparison.
var compareRows = []struct {
	label string
	get   func(*content.Service) string
}{
	{"What it is", func(s *content.Service) string { return s.Summary }},
	{"Control", func(s *content.Service) string { return s.Control }},
	{"Pricing model", func(s *content.Service) string { return s.Pricing }},
	{"Pick it when", func(s *content.Service) string { return s.PickWhen }},
	{"Avoid it when", func(s *content.Service) string { return s.AvoidWhen }},
}

// Grade tells a terminal user whether their choice was right, with the
// rationale for the choice and the note to read.
func Grade(q *content.Question, choice int, note *content.Note) string {
	var b strings.Builder
	correct := q.Correct()
	if choice == correct {
		fmt.Fprintf(&b, "Right: %c. %s\n", Letters[correct], q.Choices[correct].Why)
	} else {
		fmt.Fprintf(&b, "Not quite: you chose %c. %s\nThe answer is %c) %s. %s\n",
			Letters[choice], q.Choices[choice].Why, Letters[correct], q.Choices[correct].Text, q.Choices[correct].Why)
	}
	if note != nil {
		fmt.Fprintf(&b, "Read more: %s\n", note.Title)
	}
	return b.String()
}

// ParseChoice reads a quiz answer such as "b", "B)", " 2 ".
func ParseChoice(s string, n int) (int, bool) {
	s = strings.ToUpper(strings.Trim(strings.TrimSpace(s), ").:"))
	if len(s) != 1 {
		return 0, false
	}
	if i := strings.IndexByte(Letters[:n], s[0]); i >= 0 {
		return i, true
	}
	if s[0] >= '1' && int(s[0]-'1') < n {
		return int(s[0] - '1'), true
	}
	return 0, false
}

// RenderMarkdown renders a reply as Markdown for a terminal renderer
// (package terminal): RenderText's text, where a line break is a line
// break, with the comparison and the command list as tables and a
// practice question's choices and a service's facts as tables, so that each
// wraps inside its own column.
func RenderMarkdown(r Reply, name func(string) string) string {
	var b strings.Builder
	switch {
	case r.Answer != nil || r.Gaps != nil:
	case r.Service != nil:
		s := r.Service
		fmt.Fprintf(&b, "**%s**\n%s\n\n", s.Name, s.Summary)
		if s.Caveat != "" {
			fmt.Fprintf(&b, "Heads-up: %s\n\n", s.Caveat)
		}
		fmt.Fprintf(&b, "| | |\n|---|---|\n| You manage: | %s |\n| Pricing: | %s |\n| Pick it when: | %s |\n| Avoid it when: | %s |\n",
			cell(s.Control), cell(s.Pricing), cell(s.PickWhen), cell(s.AvoidWhen))
		if r.Note != nil {
			fmt.Fprintf(&b, "\n**%s**\n%s\n", r.Note.Title, r.Note.Body)
		}
		if line := learnMore(s.Sources, s.Reviewed); line != "" {
			fmt.Fprintf(&b, "\n%s\n", line)
		}
		return b.String()
	case len(r.Compare) == 2:
		a, c := r.Compare[0], r.Compare[1]
		fmt.Fprintf(&b, "| | %s | %s |\n|---|---|---|\n", cell(a.Name), cell(c.Name))
		for _, row := range compareRows {
			fmt.Fprintf(&b, "| **%s** | %s | %s |\n", row.label, cell(row.get(&a)), cell(row.get(&c)))
		}
		return b.String()
	case r.Question != nil:
		q := r.Question
		fmt.Fprintf(&b, "%s\n\n| | |\n|---|---|\n", q.Question)
		for i, c := range q.Choices {
			fmt.Fprintf(&b, "| %c) | %s |\n", Letters[i], cell(c.Text))
		}
		return b.String()
	case r.Help != nil:
		b.WriteString("Ask me which AWS container service fits a need, or use a command:\n\n| | |\n|---|---|\n")
		for _, c := range r.Help {
			fmt.Fprintf(&b, "| %s | %s |\n", cell(c.Usage), cell(c.Help))
		}
		return b.String()
	}
	return RenderText(r, name)
}

// cell makes s safe inside a Markdown table cell: one line, and a | that
// does not end the cell.
func cell(s string) string {
	return strings.ReplaceAll(strings.Join(strings.Fields(s), " "), "|", `\|`)
}

// Reveal gives the answer to a practice question nobody answered, so that
// moving on to another question does not drop it silently.
func Reveal(q *content.Question, note *content.Note) string {
	correct := q.Correct()
	var b strings.Builder
	fmt.Fprintf(&b, "The answer to \"%s\" is %c) %s. %s\n", strings.TrimSpace(q.Question), Letters[correct], q.Choices[correct].Text, q.Choices[correct].Why)
	if note != nil {
		fmt.Fprintf(&b, "Read more: %s\n", note.Title)
	}
	return b.String()
}
