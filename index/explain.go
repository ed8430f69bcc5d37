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
		}{{un.synonym, "lexicon"}, {un.fixed, "typo-corrected"}, {un.anchor, "anchor"}, {un.negated, "negated"}, {un.reference, "reference"}, {un.implied, "implied"}, {un.situation, "situation"}} {
			if f.on {
				flags = append(flags, f.name)
			}
		}
		extra := ""
		if len(un.needs) > 0 {
			extra += fmt.Sprintf(" needs=%v", un.needs)
		}
		if len(un.against) > 0 {
			extra += fmt.Sprintf(" against=%v", un.against)
		}
		fmt.Fprintf(&b, "    %-28q terms=%v%s %s\n", un.text, un.terms, extra, strings.Join(flags, " "))
	}
	var needs []string
	for _, n := range u.needs {
		s := n.id
		if n.against {
			s = "not " + s
		}
		if n.inherited {
			s += " (earlier question)"
		} else {
			s += fmt.Sprintf(" (%q)", n.from)
		}
		needs = append(needs, s)
	}
	fmt.Fprintf(&b, "  needs: %v\n", needs)
	fmt.Fprintf(&b, "  names: %v leaving: %v failing: %v rejected: %v target: %v choices: %v doubted: %v only-names: %v\n", u.named, u.leaving, u.failing, u.rejected, u.target, u.choices, u.doubted, u.onlyNames)
	fmt.Fprintf(&b, "  definition: %v comparison: %v ability: %v choice: %v asks: %v how-to: %v follow-up: %v %v\n", u.definition, u.comparison, u.ability, u.choice, u.asks, u.howto, u.followup, u.context)
	fmt.Fprintf(&b, "  anchored: %v keyword-phrase: %q outside: %v local: %v aws: %v other-cloud: %v platform: %v moving: %v equivalent: %v troubleshooting: %v\n",
		u.anchored, u.phrase, u.outside, u.local, u.aws, u.cloud, u.platform, u.moving, u.equivalent, u.trouble)
	if v := u.verdict; v != nil {
		fmt.Fprintf(&b, "  verdict: %s can %s: %v %s %v\n", v.Service, v.Need, v.Can, v.Limit, v.Instead)
	}
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
	fmt.Fprintf(&b, "5. decide\n  covered %.1f of %.1f (best few together %.1f; without container words and services %.1f of %.1f), anchored: %v, best meets %d needs, violates %d\n  confident: %v (%s)\n",
		d.covered, d.total, d.nearCovered, d.problemCovered, d.problem, d.anchored, d.met, d.violated, d.confident, d.reason)
	if c := d.clarify; c != nil {
		fmt.Fprintf(&b, "  clarify: %s\n", c.Question)
		for _, o := range c.Options {
			fmt.Fprintf(&b, "    - %s → %q\n", o.Label, o.Question)
		}
	}
	return b.String(), nil
}
