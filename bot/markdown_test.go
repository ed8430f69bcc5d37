package bot_test

import (
	"strings"
	"testing"

	"shipmate/bot"
	"shipmate/content"
	"shipmate/terminal"
)

// TestRenderMarkdownTables: the comparison, a service's facts, the command
// list and a practice question's choices come out as tables in which
// content text, even with a | or a line break, stays in its own cell.
func TestRenderMarkdownTables(t *testing.T) {
	t.Parallel()
	a := content.Service{Name: "Alpha", Summary: "runs a | b pipelines", Control: "you\nmanage it", Pricing: "p", PickWhen: "w", AvoidWhen: "v"}
	b := content.Service{Name: "Beta", Summary: "s", Control: "c", Pricing: "p", PickWhen: "w", AvoidWhen: "v"}
	q := &content.Question{Question: "Which one?", Choices: []content.Choice{{Text: "Alpha | first"}, {Text: "Beta", Correct: true}}}
	tests := []struct {
		name  string
		reply bot.Reply
		want  []string // lines of the plain layout
	}{
		{"compare", bot.Reply{Compare: []content.Service{a, b}}, []string{
			"               Alpha                 Beta",
			"What it is     runs a | b pipelines  s",
			"Control        you manage it         c",
		}},
		{"explain", bot.Reply{Service: &a}, []string{"You manage:     you manage it"}},
		{"question", bot.Reply{Question: q}, []string{"Which one?", "A)  Alpha | first", "B)  Beta"}},
		{"help", bot.Reply{Help: []bot.Command{{Usage: "ask <question>", Help: "Which service?"}}}, []string{"ask <question>  Which service?"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := terminal.Render(bot.RenderMarkdown(tt.reply, func(id string) string { return id }), terminal.Style{})
			for _, w := range tt.want {
				if !strings.Contains("\n"+got, "\n"+w+"\n") && !strings.Contains("\n"+got, "\n"+w+" ") {
					t.Errorf("RenderMarkdown(%s) laid out =\n%s\nwant the line %q", tt.name, got, w)
				}
			}
		})
	}
}
