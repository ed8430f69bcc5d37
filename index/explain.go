package index

import (
	"context"
	"fmt"
	"strings"
)

// Explain describes how a question is understood and scored: what each
// stage of Answer returned for it. It is for content editors working out
// why a question gets the answer it does.
func (ix *Index) Explain(ctx context.Context, q Query) (string, error) {
	t, err := ix.run(ctx, q)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	u := &t.und
	fmt.Fprintf(&b, "1. normalise\n  text: %q\n  words: %v\n", t.norm.text, t.norm.words)
	fmt.Fprintf(&b, "2. understand\n  search text: %q\n  units:\n", u.searchText())
	for _, un := range u.units {
		var flags []string
		for _, f := range []struct {
			on   bool
			name string
		}{{un.synonym, "lexicon"}, {un.fixed, "typo-corrected"}, {un.anchor, "anchor"}, {un.negated, "negated"}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		fmt.Fprintf(&b, "    %-28q terms=%v %s\n", un.text, un.terms, strings.Join(flags, " "))
	}
	fmt.Fprintf(&b, "  names: %v only-names: %v definition: %v comparison: %v\n", u.named, u.onlyNames, u.definition, u.comparison)
	fmt.Fprintf(&b, "  anchored: %v keyword-phrase: %v outside: %v local: %v aws: %v\n", u.anchored, u.phrase, u.outside, u.local, u.aws)
	if len(u.units) == 0 {
		b.WriteString("3. retrieve\n  nothing to search for\n4. rank\n  nothing to rank\n")
	} else {
		b.WriteString("3. retrieve (Bleve text relevance)\n")
		for i, c := range t.retrieved {
			fmt.Fprintf(&b, "  %d. %s %.3f %v\n", i+1, c.doc.id, c.text, c.doc.services)
		}
		b.WriteString("4. rank\n")
		for i, c := range t.ranked {
			var why []string
			for _, f := range c.factors {
				why = append(why, fmt.Sprintf("%s ×%.2f", f.why, f.x))
			}
			var cov []string
			for _, un := range u.units {
				if c.doc.covers(un) {
					cov = append(cov, un.text)
				}
			}
			fmt.Fprintf(&b, "  %d. %s %.3f %v covers %d/%d %v\n", i+1, c.doc.id, c.score, c.doc.services, len(cov), len(u.units), cov)
			if len(why) > 0 {
				fmt.Fprintf(&b, "       %s\n", strings.Join(why, "; "))
			}
		}
	}
	d := t.dec
	fmt.Fprintf(&b, "5. decide\n  covered %.1f of %.1f (best few together %.1f), anchored: %v\n  confident: %v (%s)\n",
		d.covered, d.total, d.nearCovered, d.anchored, d.confident, d.reason)
	return b.String(), nil
}
