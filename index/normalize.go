package index

import (
	"html"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxQuestionRunes is how much of a question is read. Questions longer than
// this (a pasted log, say) are cut; the start carries the intent.
const MaxQuestionRunes = 1000

var (
	// <@U123>, <@U123|name>, <!here>, <!subteam^S1|@team>
	slackUser = regexp.MustCompile(`<[@!][^>]*>`)
	// <#C123|name> or <#C123>
	slackChannel = regexp.MustCompile(`<#[A-Z0-9]+(?:\|([^>]*))?>`)
	// <https://x|label> or <https://x>, also mailto:
	slackLink = regexp.MustCompile(`<((?:https?|mailto|ftp):[^|>]*)(?:\|([^>]*))?>`)
	// 123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag and friends
	awsHost = regexp.MustCompile(`[A-Za-z0-9._-]+\.amazonaws\.com(?:\.cn)?(?:/[^\s]*)?`)
	// :emoji: and :skin-tone-2:
	emojiCode = regexp.MustCompile(`:[a-z0-9_+\-']+:`)
	// `inline code` and ```blocks```
	codeSpan = regexp.MustCompile("`[^`]+`")
	// a command-line flag and its value: --namespace batch, --cluster=prod
	flagValue = regexp.MustCompile(`(--[A-Za-z][A-Za-z0-9-]*)(?:[ =]+[^\s-][^\s]*)?`)
)

// Normalize turns a message as Slack delivers it into plain question text:
// mentions dropped, channel and link labels kept, HTML entities decoded,
// emoji codes and formatting characters removed, whitespace collapsed and
// the length capped. It never fails.
func Normalize(text string) string {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, " ")
	}
	if utf8.RuneCountInString(text) > 4*MaxQuestionRunes {
		text = truncateRunes(text, 4*MaxQuestionRunes)
	}
	text = slackChannel.ReplaceAllString(text, " $1 ")
	text = slackLink.ReplaceAllStringFunc(text, func(m string) string {
		sub := slackLink.FindStringSubmatch(m)
		return " " + sub[2] + " "
	})
	text = slackUser.ReplaceAllString(text, " ")
	text = html.UnescapeString(text)
	// An AWS endpoint names its service; the rest of it is noise.
	text = awsHost.ReplaceAllStringFunc(text, func(h string) string {
		return " aws " + endpointService(h) + " "
	})
	text = emojiCode.ReplaceAllString(text, " ")
	// In pasted code a flag's value names the user's own things ("eksctl
	// create fargateprofile --namespace batch" is not about batch jobs):
	// the flag is kept, its value dropped.
	if strings.Contains(text, "`") {
		text = codeSpan.ReplaceAllStringFunc(text, func(c string) string {
			return flagValue.ReplaceAllString(c, "$1")
		})
	}
	var b strings.Builder
	b.Grow(len(text))
	space := true
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			space = false
		case strings.ContainsRune(".,;:?!()'-–—/&+#%$", r):
			b.WriteRune(r)
			space = false
		default:
			if !space {
				b.WriteByte(' ')
				space = true
			}
		}
	}
	return truncateRunes(strings.TrimSpace(b.String()), MaxQuestionRunes)
}

// endpointService returns the service label of an AWS endpoint:
// "ecr" for 123456789012.dkr.ecr.us-east-1.amazonaws.com, "s3" for
// s3.amazonaws.com/bucket.
func endpointService(host string) string {
	host, _, _ = strings.Cut(host, ".amazonaws.com")
	labels := strings.Split(host, ".")
	for i := len(labels) - 1; i >= 0; i-- {
		if l := strings.ToLower(labels[i]); l != "" && !awsRegion.MatchString(l) && !isNumber(l) {
			return l
		}
	}
	return ""
}

// awsRegion matches a Region name such as us-east-1 or us-gov-west-1.
var awsRegion = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$`)

func truncateRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// words splits normalized text into lowercase words of letters and digits.
// Apostrophes join ("don't" → "dont") except in an acronym's possessive
// ("ECS's" → "ecs"), a dot between digits stays ("2.5", "900.00"), other
// punctuation splits ("ci/cd" → "ci", "cd"); "w/o" and "w/" are read as
// "without" and "with".
func words(s string) []string {
	if ws, ok := asciiWords(s); ok {
		return ws
	}
	return unicodeWords(s)
}

// unicodeWords is words for any text.
func unicodeWords(s string) []string {
	apostrophe := hasApostrophe(s)
	if apostrophe {
		s = dropAcronymPossessives(s)
	}
	s = strings.ToLower(s)
	if strings.Contains(s, "w/") {
		s = withShorthand.Replace(s)
	}
	if apostrophe {
		s = apostrophes.Replace(s)
	}
	// The words are slices of s: a caller that keeps one for long, in a
	// map built from long texts, clones it. A word and what follows it
	// take about six bytes of text.
	ws := make([]string, 0, len(s)/6+1)
	start := -1
	prev := rune(-1)
	for i, r := range s {
		in := unicode.IsLetter(r) || unicode.IsDigit(r)
		if !in && r == '.' && unicode.IsDigit(prev) {
			next, _ := utf8.DecodeRuneInString(s[i+1:])
			in = unicode.IsDigit(next)
		}
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			ws = append(ws, s[start:i])
			start = -1
		}
		prev = r
	}
	if start >= 0 {
		ws = append(ws, s[start:])
	}
	// A quantity and its unit are two words: "250mb" is "250 mb".
	for i := 0; i < len(ws); i++ {
		if n, unit, ok := cutQuantity(ws[i]); ok {
			ws = slices.Insert(ws, i+1, unit)
			ws[i] = n
			i++
		}
	}
	return ws
}

// asciiWords is words for ASCII text without "w/" (most of what the
// knowledge base and the questions say), in one pass over the bytes: only
// a word with a capital in it is copied to be lowercased, not the whole
// text. ok is false for other text. FuzzWords compares it with
// unicodeWords.
func asciiWords(s string) (ws []string, ok bool) {
	apostrophe := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80:
			return nil, false
		case c == '\'':
			apostrophe = true
		case c == '/' && i > 0 && (s[i-1] == 'w' || s[i-1] == 'W'):
			return nil, false
		}
	}
	if apostrophe {
		s = strings.ReplaceAll(dropAcronymPossessives(s), "'", "")
	}
	ws = make([]string, 0, len(s)/5+1)
	start, upper := -1, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		in := 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
		if 'A' <= c && c <= 'Z' {
			in, upper = true, true
		}
		if !in && c == '.' && i > 0 && '0' <= s[i-1] && s[i-1] <= '9' && i+1 < len(s) && '0' <= s[i+1] && s[i+1] <= '9' {
			in = true
		}
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			ws = append(ws, lowerWord(s[start:i], upper))
			start, upper = -1, false
		}
	}
	if start >= 0 {
		ws = append(ws, lowerWord(s[start:], upper))
	}
	for i := 0; i < len(ws); i++ {
		if n, unit, ok := cutQuantity(ws[i]); ok {
			ws = slices.Insert(ws, i+1, unit)
			ws[i] = n
			i++
		}
	}
	return ws, true
}

func lowerWord(w string, upper bool) string {
	if upper {
		return strings.ToLower(w)
	}
	return w
}

// cutQuantity splits a number followed by letters ("180mb", "2gb", "16vcpu")
// into the number and the unit.
func cutQuantity(w string) (string, string, bool) {
	i := 0
	for i < len(w) && (w[i] >= '0' && w[i] <= '9' || i > 0 && w[i] == '.') {
		i++
	}
	if i == 0 || i == len(w) {
		return "", "", false
	}
	for _, r := range w[i:] {
		if !unicode.IsLetter(r) {
			return "", "", false
		}
	}
	return w[:i], w[i:], true
}

// hasApostrophe reports whether s has a straight or typographic
// apostrophe. (strings.ContainsAny with a non-ASCII character reads s rune
// by rune; this is two vectorised searches.)
func hasApostrophe(s string) bool {
	return strings.IndexByte(s, '\'') >= 0 || strings.Contains(s, "’")
}

// dropAcronymPossessives drops the "'s" of an acronym's possessive ("ECS's",
// "AWS’s" → "ECS", "AWS"), which would otherwise join into a word of its
// own ("ecss"). An acronym is a capital followed by one or more capitals or
// digits, at word boundaries as a regexp's \b has them (ASCII letters,
// digits and _ make words): what `\b([A-Z][A-Z0-9]+)['’]s\b` replaced
// with its group.
func dropAcronymPossessives(s string) string {
	var b strings.Builder
	done := 0 // s[:done] is in b, or b is unused
	for i := 0; i < len(s); {
		n := 0 // the apostrophe's length at i
		switch {
		case s[i] == '\'':
			n = 1
		case strings.HasPrefix(s[i:], "’"):
			n = len("’")
		default:
			i++
			continue
		}
		end := i + n + 1 // after the s
		if end <= len(s) && s[i+n] == 's' && (end == len(s) || !isASCIIWordByte(s[end])) {
			start := i
			for start > done && (isUpperASCII(s[start-1]) || isDigitASCII(s[start-1])) {
				start--
			}
			// The acronym starts with a capital, at a word boundary.
			if i-start >= 2 && isUpperASCII(s[start]) && (start == 0 || !isASCIIWordByte(s[start-1])) {
				b.WriteString(s[done:i])
				done = end
			}
		}
		i += n
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

func isUpperASCII(c byte) bool { return 'A' <= c && c <= 'Z' }
func isDigitASCII(c byte) bool { return '0' <= c && c <= '9' }
func isASCIIWordByte(c byte) bool {
	return isUpperASCII(c) || isDigitASCII(c) || 'a' <= c && c <= 'z' || c == '_'
}

// withShorthand reads "w/o" and "w/" as "without" and "with"; apostrophes
// joins words at them ("don't" → "dont"). words uses each only where it
// has something to replace: most texts have neither, and the replacers
// cost more than the rest of words.
var (
	withShorthand = strings.NewReplacer("w/o ", "without ", "w/ ", "with ")
	apostrophes   = strings.NewReplacer("'", "", "’", "")
)

// normalized is the first stage's result: the question as plain words,
// each with the clause it belongs to.
type normalized struct {
	text   string   // Normalize(question)
	words  []string // its lowercase words, at most maxWords
	clause []int    // the clause of each word: punctuation starts a new one
	// quoted marks the words of material the user pasted rather than
	// wrote: URLs, image references and file paths. The service a base
	// image's registry names is where the image comes from, not what the
	// user asks about.
	quoted []bool
	// asked lists the clauses that end in a question mark.
	asked []int
	// host marks the quoted words that are a URL's or image reference's
	// host: where the thing comes from, never what the user asks about.
	host []bool
}

// maxWords bounds the work done for one question.
const maxWords = 60

// normalise is the first stage. whole reports the identifiers to keep as
// one word (an error type's name, a name the lexicon knows); nil keeps
// none.
func normalise(question string, whole func(string) bool) normalized {
	n := normalized{text: splitIdentifiers(Normalize(question), whole)}
	// A parenthesised aside is clauses of its own, and the words after it
	// go on with the clause it interrupted: in "the packages (torch,
	// scipy) are over 500 MB" the size is the packages'.
	clause, next := 0, 1
	var outer []int
	for _, part := range splitClauses(n.text) {
		for _, w := range words(part.text) {
			if len(n.words) == maxWords {
				return n
			}
			n.words = append(n.words, w)
			n.clause = append(n.clause, clause)
		}
		if part.cut == '?' {
			n.asked = append(n.asked, clause)
		}
		switch {
		case part.cut == '(':
			outer = append(outer, clause)
			clause = next
		case part.cut == ')' && len(outer) > 0:
			clause = outer[len(outer)-1]
			outer = outer[:len(outer)-1]
			continue
		default:
			clause = next
		}
		next++
	}
	n.quoted, n.host = quotedWords(n.text, len(n.words))
	return n
}

// minIdentifierParts is how many capitalised parts make a word an
// identifier to read as words: "CreatePullThroughCacheRule" is one, while
// "CloudWatch" and "DynamoDB" are names.
const minIdentifierParts = 3

// splitIdentifiers writes the API and class names pasted in text
// ("ManagedInstancesCapacityProvider") as the words they are made of
// ("Managed Instances Capacity Provider"), except those whole keeps.
func splitIdentifiers(text string, whole func(string) bool) string {
	var b strings.Builder
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := text[start:end]
		parts := camelParts(w)
		if len(parts) >= minIdentifierParts && (whole == nil || !whole(strings.ToLower(w))) {
			b.WriteString(strings.Join(joinKnown(parts, whole), " "))
		} else {
			b.WriteString(w)
		}
		start = -1
	}
	for i, r := range text {
		if r < utf8.RuneSelf && isASCIIWordByte(byte(r)) && r != '_' {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		b.WriteRune(r)
	}
	flush(len(text))
	return b.String()
}

// joinKnown joins again the runs of parts that make a name whole keeps:
// "CloudFormationStack" is "CloudFormation Stack".
func joinKnown(parts []string, whole func(string) bool) []string {
	if whole == nil {
		return parts
	}
	var out []string
	for i := 0; i < len(parts); {
		j := i + 1
		for k := len(parts); k > i+1; k-- {
			if whole(strings.ToLower(strings.Join(parts[i:k], ""))) {
				j = k
				break
			}
		}
		out = append(out, strings.Join(parts[i:j], ""))
		i = j
	}
	return out
}

// camelParts cuts a word at its case changes: before a capital after a
// small letter or digit ("managedInstances", "Ec2Service") and before the
// last capital of a run followed by two small letters or more
// ("ECSService"), not by an acronym's plural ("vCPUs" is two parts).
func camelParts(w string) []string {
	var parts []string
	start := 0
	for i := 1; i < len(w); i++ {
		c, prev := w[i], w[i-1]
		if !isUpperASCII(c) {
			continue
		}
		if !isUpperASCII(prev) || isLowerWord(w[i+1:]) {
			parts = append(parts, w[start:i])
			start = i
		}
	}
	return append(parts, w[start:])
}

// isLowerWord reports whether s starts with two small letters.
func isLowerWord(s string) bool {
	return len(s) >= 2 && 'a' <= s[0] && s[0] <= 'z' && 'a' <= s[1] && s[1] <= 'z'
}

// quotedMaterial is a URL, an image reference or file path with a dotted
// host ("public.ecr.aws/lambda/nodejs:14"), or an absolute path
// ("/lambda-entrypoint.sh"). Group 1 is the host, if any.
var quotedMaterial = regexp.MustCompile(`(?:^|\s)(?:(?:[A-Za-z][A-Za-z0-9+.-]*://([^\s/]*)\S*)|([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?::[0-9]+)?)/\S+|/[A-Za-z0-9._-]+\S*)`)

// quotedWords marks which of the first n words of text are in quoted
// material, and which of those are its host, or none when the text has
// none or its words cannot be lined up with it.
func quotedWords(text string, n int) (quoted, host []bool) {
	spans := quotedMaterial.FindAllStringSubmatchIndex(text, -1)
	if len(spans) == 0 {
		return nil, nil
	}
	quoted, host = make([]bool, 0, n), make([]bool, 0, n)
	add := func(s string, q, h bool) {
		for range words(s) {
			quoted, host = append(quoted, q), append(host, h)
		}
	}
	at := 0
	for _, sp := range spans {
		add(text[at:sp[0]], false, false)
		hs, he := sp[2], sp[3]
		if hs < 0 {
			hs, he = sp[4], sp[5]
		}
		if hs < 0 {
			add(text[sp[0]:sp[1]], true, false)
		} else {
			add(text[sp[0]:hs], true, false)
			add(text[hs:he], true, true)
			add(text[he:sp[1]], true, false)
		}
		at = sp[1]
	}
	add(text[at:], false, false)
	if len(quoted) < n || len(words(text)) != len(quoted) {
		return nil, nil
	}
	return quoted[:n], host[:n]
}

// clausePart is a piece of text between clause breaks, with the
// punctuation that ends it (0 at the end of the text).
type clausePart struct {
	text string
	cut  rune
}

// splitClauses cuts text at the punctuation that ends a clause: , ; : ? !
// ( ) dashes, a full stop before a space, and a hyphen standing alone
// ("no service mesh - kubernetes or ECS?"). Hyphens and dots inside words
// ("event-driven", "node.js") do not cut.
func splitClauses(text string) []clausePart {
	var parts []clausePart
	start := 0
	rs := []rune(text)
	for i, r := range rs {
		cut := false
		switch r {
		case ',', ';', ':', '?', '!', '(', ')', '–', '—':
			cut = true
		case '.':
			cut = i+1 == len(rs) || rs[i+1] == ' '
		case '-':
			cut = (i == 0 || rs[i-1] == ' ') && (i+1 == len(rs) || rs[i+1] == ' ')
		}
		if cut {
			parts = append(parts, clausePart{string(rs[start:i]), r})
			start = i + 1
		}
	}
	return append(parts, clausePart{text: string(rs[start:])})
}
