package index

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"shipmate/content"
)

// TestBuildSplitsOnce: the index splits each text into words once and
// shares the words between a document's fields, features, headline and
// the vocabulary; what it works out is what splitting each joined text
// afresh gives.
func TestBuildSplitsOnce(t *testing.T) {
	ix, err := New(content.MustLoadEmbedded())
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	df := map[string]int{}
	fieldTerms := map[string]map[string]bool{}
	for _, f := range fields {
		fieldTerms[f.name] = map[string]bool{}
	}
	for _, d := range ix.docs {
		if got, want := d.features, ix.lex.featuresIn(words(d.says())); !slices.Equal(got, want) {
			t.Errorf("%s: features %v, want %v", d.id, got, want)
		}
		if got, want := d.about, ix.lex.featuresIn(words(d.headline())); !slices.Equal(got, want) {
			t.Errorf("%s: about %v, want %v", d.id, got, want)
		}
		seen := map[string]bool{}
		for name, text := range docFields(ix, d) {
			for _, term := range ix.terms(text) {
				fieldTerms[name][term] = true
				if !seen[term] {
					seen[term] = true
					df[term]++
				}
			}
		}
		if !maps.Equal(seen, d.terms) {
			t.Errorf("%s: %d terms, want %d", d.id, len(d.terms), len(seen))
		}
	}
	if !maps.Equal(df, ix.df) {
		t.Errorf("document frequencies differ: %d terms, want %d", len(ix.df), len(df))
	}
	for name, set := range fieldTerms {
		if !maps.Equal(set, ix.fieldTerms[name]) {
			t.Errorf("field %s: %d terms, want %d", name, len(ix.fieldTerms[name]), len(set))
		}
	}
}

// docFields are the texts build indexes for d, joined as build joins them.
func docFields(ix *Index, d *doc) map[string]string {
	if s := d.scenario; s != nil {
		var consider []string
		for _, a := range s.Consider {
			consider = append(consider, a.When+" "+ix.serviceNames(a.Use))
		}
		return map[string]string{
			"need":     s.Need + "\n" + strings.Join(s.Examples, "\n"),
			"keywords": strings.Join(s.Keywords, "\n") + "\n" + ix.serviceNames(s.Use),
			"body":     s.Answer + "\n" + s.Because + "\n" + strings.Join(consider, "\n"),
		}
	}
	n := d.note
	return map[string]string{
		"need":     n.Title,
		"keywords": strings.Join(n.Keywords, "\n") + "\n" + ix.serviceNames(n.Services),
		"body":     n.Body,
	}
}
