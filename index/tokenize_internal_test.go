package index

import (
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"

	"shipmate/content"
)

// FuzzTokenizeASCII: for any ASCII text, tokenizeASCII returns what
// Bleve's unicode tokenizer returns, token for token. The seeds are the
// knowledge base's texts and the edge cases of the word-boundary rules.
//
//	go test -run '^$' -fuzz FuzzTokenizeASCII ./index/
func FuzzTokenizeASCII(f *testing.F) {
	for _, s := range []string{
		"", " ", "a", "_", "__", "a_b", "_a", "1_", "_1", "a1", "1a", "1.5", "a.b", "a.1", "1.a", "a:b", "1:2",
		"1,2", "a,b", "a'b", "1'2", "a''b", "a..b", "1,,2", "a.", ".a", "v1.2.3", "e.g.", "x86_64", "can't",
		"a\r\nb", "a-b", "'a'", "1;2", "a;b", "1.2.a", "a.b.1", "\"a\"b", "3.b.4", "a_.b", "a1.b", "1a.2",
		"a_b.c", "1_.2", "_.a", "1'a", "a'1", "12,345.67 GB", "s3://bucket/key.json", "http://169.254.170.2/v2",
		"arn:aws:ecs:us-east-1:123:task/x", "\x00\x7f\t\v\f", "ECS's tasks", "it's 3:30", "don't;do",
	} {
		f.Add(s)
	}
	addKnowledgeSeeds(f)
	ref := unicode.NewUnicodeTokenizer()
	f.Fuzz(func(t *testing.T, s string) {
		in := []byte(s)
		for i := range in {
			in[i] &= 0x7f // every input becomes ASCII text
		}
		got, want := tokenizeASCII(in), ref.Tokenize(in)
		if !slices.EqualFunc(got, want, sameToken) {
			t.Errorf("tokenizeASCII(%q) = %v, want %v", s, got, want)
		}
	})
}

// TestTokenizeASCIIExhaustive compares tokenizeASCII with Bleve's unicode
// tokenizer on every text of up to five characters from the characters the
// word-boundary rules tell apart (letter, digit, underscore, the joiners,
// a double quote, space, CR and LF).
func TestTokenizeASCIIExhaustive(t *testing.T) {
	const alphabet = "a1_.:,;'\" \r\n"
	ref := unicode.NewUnicodeTokenizer()
	buf := make([]byte, 0, 5)
	var walk func()
	walk = func() {
		got, want := tokenizeASCII(buf), ref.Tokenize(buf)
		if !slices.EqualFunc(got, want, sameToken) {
			t.Fatalf("tokenizeASCII(%q) = %v, want %v", buf, got, want)
		}
		if len(buf) == cap(buf) {
			return
		}
		for i := range len(alphabet) {
			buf = append(buf, alphabet[i])
			walk()
			buf = buf[:len(buf)-1]
		}
	}
	walk()
}

// addKnowledgeSeeds adds the knowledge base's texts, a scenario's or a
// note's at a time, to a fuzz test's seeds.
func addKnowledgeSeeds(f *testing.F) {
	b := content.MustLoadEmbedded()
	for _, s := range b.Scenarios {
		f.Add(s.Need + "\n" + s.Answer + "\n" + s.Because + "\n" + strings.Join(s.Examples, "\n"))
	}
	for _, n := range b.Notes {
		f.Add(n.Title + "\n" + n.Body)
	}
}

func sameToken(a, b *analysis.Token) bool {
	return a.Start == b.Start && a.End == b.End && string(a.Term) == string(b.Term) &&
		a.Position == b.Position && a.Type == b.Type && a.KeyWord == b.KeyWord
}
