package terminal

import (
	"strings"

	east "github.com/yuin/goldmark/extension/ast"
)

// colGap separates two table columns.
const colGap = "  "

// table lays out a GFM table as aligned columns under a rule. When the
// table is wider than width, the widest columns give way first and their
// cells wrap inside the column; no column gets narrower than its longest
// word. Rows that wrap are set apart by a blank line. A table whose header
// cells are all empty is laid out without header and rule: a list of
// labelled items, each wrapping beside its label.
func (r *renderer) table(t *east.Table, width int) []line {
	var rows [][][]piece
	ncol := 0
	for row := t.FirstChild(); row != nil; row = row.NextSibling() {
		a := attr(0)
		if _, ok := row.(*east.TableHeader); ok {
			a = bold
		}
		var cells [][]piece
		for c := row.FirstChild(); c != nil; c = c.NextSibling() {
			cells = append(cells, r.inlines(c, a, nil))
		}
		rows = append(rows, cells)
		ncol = max(ncol, len(cells))
	}
	if ncol == 0 {
		return nil
	}
	headless := true
	for _, p := range rows[0] {
		for _, x := range p {
			headless = headless && strings.TrimSpace(x.text) == ""
		}
	}
	natural, least := make([]int, ncol), make([]int, ncol)
	for _, cells := range rows {
		for i, c := range cells {
			for _, l := range r.wrap(flatten(c), 1<<30) {
				natural[i] = max(natural[i], l.w)
			}
			for _, l := range r.wrap(c, 1) {
				least[i] = max(least[i], l.w)
			}
		}
	}
	widths := fit(natural, least, width-len(colGap)*(ncol-1))

	var body [][]line // each row's lines, cells side by side
	tall := false
	for ri, cells := range rows {
		var cellLines [][]line
		height := 1
		for i := range ncol {
			var ls []line
			if i < len(cells) {
				ls = r.wrap(cells[i], widths[i])
			}
			cellLines = append(cellLines, ls)
			height = max(height, len(ls))
		}
		if ri > 0 && height > 1 {
			tall = true
		}
		var out []line
		for y := range height {
			var b strings.Builder
			w := 0
			for i := range ncol {
				var l line
				if y < len(cellLines[i]) {
					l = cellLines[i][y]
				}
				if i > 0 {
					b.WriteString(colGap)
					w += len(colGap)
				}
				pad := max(widths[i]-l.w, 0)
				left := 0
				switch alignment(t, i) {
				case east.AlignRight:
					left = pad
				case east.AlignCenter:
					left = pad / 2
				}
				if i == ncol-1 {
					pad = left // no trailing spaces after the last column
				}
				b.WriteString(strings.Repeat(" ", left) + l.s + strings.Repeat(" ", pad-left))
				w += l.w + pad
			}
			out = append(out, line{b.String(), w})
		}
		body = append(body, out)
	}

	var out []line
	for ri, ls := range body {
		if ri == 0 && headless {
			continue
		}
		if ri > 1 && tall {
			out = append(out, line{})
		}
		out = append(out, ls...)
		if ri == 0 {
			var b strings.Builder
			w := 0
			for i, cw := range widths {
				if i > 0 {
					b.WriteString(colGap)
					w += len(colGap)
				}
				b.WriteString(strings.Repeat(r.ruleChar(), cw))
				w += cw
			}
			out = append(out, line{b.String(), w})
		}
	}
	return out
}

func alignment(t *east.Table, col int) east.Alignment {
	if col < len(t.Alignments) {
		return t.Alignments[col]
	}
	return east.AlignNone
}

// flatten turns line breaks into spaces, for measuring a cell on one line.
func flatten(ps []piece) []piece {
	out := make([]piece, len(ps))
	for i, p := range ps {
		if p.newline {
			p = piece{text: " ", a: p.a}
		}
		out[i] = p
	}
	return out
}

// fit narrows columns from their natural widths until they add up to at
// most avail, always taking a column from the widest one that can still
// give, and never below least (its longest word). If that is still too
// wide, the table runs past avail.
func fit(natural, least []int, avail int) []int {
	w := append([]int(nil), natural...)
	total := 0
	for _, x := range w {
		total += x
	}
	for total > avail {
		widest := -1
		for i := range w {
			if w[i] > least[i] && (widest < 0 || w[i] > w[widest]) {
				widest = i
			}
		}
		if widest < 0 {
			break
		}
		w[widest]--
		total--
	}
	return w
}
