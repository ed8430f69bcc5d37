package bot

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Examples returns up to n example questions from the knowledge base's
// scenarios, each from a different scenario, chosen at random among those
// Shipmate answers confidently, so a suggestion never leads to a decline.
func (c *Commands) Examples(ctx context.Context, n int) []string {
	var pool []string
	for _, s := range c.base.Scenarios {
		if len(s.Examples) > 0 {
			pool = append(pool, s.Examples[c.pick(len(s.Examples))])
		}
	}
	var out []string
	for tries := 0; len(out) < n && len(pool) > 0 && tries < 4*n; tries++ {
		i := c.pick(len(pool))
		q := pool[i]
		pool = slices.Delete(pool, i, i+1)
		if a, err := c.run(ctx, "ask", Request{Args: q}); err == nil && a.Answer != nil && a.Answer.Confident {
			out = append(out, q)
		}
	}
	return out
}

// HelpHint ends a message with how to get help and example questions, for
// a question Shipmate declined or a command it does not know.
func HelpHint(m Message, examples []string) Message {
	var b strings.Builder
	b.WriteString("Type `/shipmate help` to see what I can do")
	if len(examples) > 0 {
		b.WriteString(", or try:")
		for _, e := range examples {
			fmt.Fprintf(&b, "\n• `/shipmate %s`", esc(oneLine(e)))
		}
	} else {
		b.WriteString(".")
	}
	hint := b.String()
	bs := slices.Clone(m.Blocks)
	if len(bs) >= maxBlocks {
		bs = bs[:maxBlocks-1]
	}
	m.Blocks = append(bs, section(hint))
	m.Text = clip(m.Text+"\n"+hint, maxFallbackText)
	return m
}
