package bot

import (
	"fmt"
	"strings"

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
		fmt.Fprintf(&b, "You manage:  %s\nPricing:     %s\nPick it when: %s\nAvoid it when: %s\n", s.Control, s.Pricing, s.PickWhen, s.AvoidWhen)
		if r.Note != nil {
			fmt.Fprintf(&b, "\n%s\n%s\n", r.Note.Title, r.Note.Body)
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
	if top == nil {
		b.WriteString(Decline + "\n")
		return
	}
	b.WriteString(top.Text + "\n")
	if len(a.Answers) > 1 {
		b.WriteString("\nAlso relevant:\n")
		for _, h := range a.Answers[1:] {
			fmt.Fprintf(b, "  - %s\n", runnerUp(h, name))
		}
	}
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
