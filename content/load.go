package content

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// Problem is one thing wrong with a content file.
type Problem struct {
	Pos
	Msg string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Problems is every problem found while loading a knowledge base. Load
// returns it as its error so that callers can list them all at once.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// LoadDir loads and validates the knowledge base in dir. Problems name files
// by their path under dir.
func LoadDir(dir string) (*Base, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("content directory: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("content directory %s: not a directory", dir)
	}
	b, err := Load(os.DirFS(dir))
	var ps Problems
	if errors.As(err, &ps) {
		for i := range ps {
			ps[i].File = filepath.Join(dir, filepath.FromSlash(ps[i].File))
		}
		return nil, ps
	}
	return b, err
}

// Load reads and validates a knowledge base laid out as described in
// FORMAT.md. On any problem it returns a nil Base and a Problems error
// listing every problem found, each with its file and line.
func Load(fsys fs.FS) (*Base, error) {
	l := &loader{fsys: fsys}
	// Files are parsed in parallel, each into its own part, and merged in
	// a fixed order so the result does not depend on scheduling.
	var tasks []func(*part)
	tasks = append(tasks,
		func(p *part) { list(&p.loader, "services.yaml", &p.b.Services, true) })
	for _, f := range l.glob("notes", ".md") {
		tasks = append(tasks, func(p *part) {
			if n, ok := p.note(f); ok {
				p.b.Notes = append(p.b.Notes, n)
			} else {
				p.broken = append(p.broken, strings.TrimSuffix(path.Base(f), ".md"))
			}
		})
	}
	for _, f := range l.glob("scenarios", ".yaml") {
		tasks = append(tasks, func(p *part) { list(&p.loader, f, &p.b.Scenarios, true) })
	}
	for _, f := range l.glob("quiz", ".yaml") {
		tasks = append(tasks, func(p *part) { list(&p.loader, f, &p.b.Questions, true) })
	}
	parts := make([]part, len(tasks))
	var wg sync.WaitGroup
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	for i, task := range tasks {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			parts[i].fsys = fsys
			task(&parts[i])
		})
	}
	wg.Wait()
	b := &Base{}
	var broken, incomplete []string
	for _, p := range parts {
		l.problems = append(l.problems, p.problems...)
		broken = append(broken, p.broken...)
		incomplete = append(incomplete, p.incomplete...)
		b.Services = append(b.Services, p.b.Services...)
		b.Notes = append(b.Notes, p.b.Notes...)
		b.Scenarios = append(b.Scenarios, p.b.Scenarios...)
		b.Questions = append(b.Questions, p.b.Questions...)
	}
	l.validate(b, broken, incomplete)
	l.problems = append(l.problems, loadLexicon(fsys, b)...)
	if len(l.problems) > 0 {
		sort.SliceStable(l.problems, func(i, j int) bool {
			a, b := l.problems[i], l.problems[j]
			if a.File != b.File {
				return a.File < b.File
			}
			return a.Line < b.Line
		})
		return nil, l.problems
	}
	b.index()
	return b, nil
}

// MustLoadEmbedded loads the embedded knowledge base. The embedded files are
// validated by the tests, so a failure here is a build defect.
func MustLoadEmbedded() *Base {
	b, err := Load(Embedded)
	if err != nil {
		panic(fmt.Sprintf("embedded content is invalid:\n%v", err))
	}
	return b
}

func (b *Base) index() {
	b.notes = make(map[string]*Note, len(b.Notes))
	for i := range b.Notes {
		b.notes[b.Notes[i].ID] = &b.Notes[i]
	}
	b.services = make(map[string]*Service, len(b.Services))
	for i := range b.Services {
		b.Services[i].Caveat = b.Services[i].caveat()
		b.services[b.Services[i].ID] = &b.Services[i]
	}
}

type loader struct {
	fsys     fs.FS
	problems Problems
	// incomplete are the list files that could not be read whole or left
	// entries out, so what they lack is not reported again.
	incomplete []string
}

// part is what one file contributes to a Base.
type part struct {
	loader
	b Base
	// broken are the ids of notes that did not load; links to them are
	// not reported again.
	broken []string
}

func (l *loader) add(file string, line int, format string, args ...any) {
	l.problems = append(l.problems, Problem{Pos{file, line}, fmt.Sprintf(format, args...)})
}

// glob lists the files with the given extension in dir, sorted. Files with
// another extension are reported so a typo like "notes/ecs.yml" is not
// silently ignored.
func (l *loader) glob(dir, ext string) []string {
	entries, err := fs.ReadDir(l.fsys, dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			l.add(dir, 0, "missing directory")
		} else {
			l.add(dir, 0, "%v", err)
		}
		return nil
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir(), strings.HasPrefix(name, "."):
		case strings.HasSuffix(name, ext):
			files = append(files, path.Join(dir, name))
		default:
			l.add(path.Join(dir, name), 0, "unexpected file: files in %s/ must end in %s", dir, ext)
		}
	}
	return files
}

// decodeFile decodes the YAML in file into out with the library's checks on:
// unknown fields (KnownFields), duplicate keys and type errors, each
// reported with its line. offset is added to line numbers (front matter
// starts below the first line of a note). It reports whether out holds
// what the file says: false for invalid YAML or an empty file (a problem
// only if required); true with problems recorded for type errors, where
// the entries that did decode are kept so their problems show in the same
// run.
func (l *loader) decodeFile(file string, data []byte, offset int, out any, required bool) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(out)
	switch {
	case errors.Is(err, io.EOF):
		if required {
			l.add(file, 1+offset, "empty file")
		}
		return false
	case err != nil:
		l.yamlError(file, offset, err, out)
		var te *yaml.TypeError
		return errors.As(err, &te)
	}
	return true
}

// readFile returns the content of file, or nil with a problem recorded.
func (l *loader) readFile(file string, required bool) []byte {
	data, err := fs.ReadFile(l.fsys, file)
	if err != nil {
		if required || !errors.Is(err, fs.ErrNotExist) {
			l.add(file, 0, "%v", unwrapPath(err))
		}
		return nil
	}
	return data
}

// list decodes a YAML file holding a list of mappings into *[]T, each entry
// with its position. An entry that does not decode is left out; its
// problems are reported with their lines.
func list[T any](l *loader, file string, out *[]T, required bool) {
	data := l.readFile(file, required)
	var entries entryList[T]
	before := len(l.problems)
	if data == nil || !l.decodeFile(file, data, 0, &entries, required) || len(l.problems) > before {
		l.incomplete = append(l.incomplete, file)
		return
	}
	for _, e := range entries.list {
		if !usable(l, file, 0, &e) {
			l.incomplete = append(l.incomplete, file)
			continue
		}
		setPos(&e.v, Pos{file, e.node.Line})
		*out = append(*out, e.v)
	}
}

// entryList is a file's top-level list. It checks that the top node is a
// list before decoding, to say so in words rather than in Go types.
type entryList[T any] struct{ list []located[T] }

func (e *entryList[T]) UnmarshalYAML(unmarshal func(any) error) error {
	var top nodeOf
	if err := unmarshal(&top); err != nil {
		return err
	}
	if top.Kind != yaml.SequenceNode {
		return lineError(top.Node, "expected a list of entries (each starting with \"- \")")
	}
	return unmarshal(&e.list)
}

// located is a value with the YAML node it was decoded from, for its
// position, and the problems decoding it. It uses the function form of
// UnmarshalYAML on purpose: that form decodes with the calling Decoder, so
// KnownFields and the duplicate-key check still apply inside the value; the
// Node form would decode with a fresh decoder that has neither.
type located[T any] struct {
	v    T
	node *yaml.Node
	err  error
}

func (e *located[T]) UnmarshalYAML(unmarshal func(any) error) error {
	var n nodeOf
	if err := unmarshal(&n); err != nil {
		return err
	}
	e.node = n.Node
	// Kept rather than returned, so the entry survives problems that leave
	// it whole (see usable). The messages are copied: the decoder reuses
	// the slice they come in.
	e.err = unmarshal(&e.v)
	var te *yaml.TypeError
	if errors.As(e.err, &te) {
		e.err = &yaml.TypeError{Errors: slices.Clone(te.Errors)}
	}
	return nil
}

// usable reports e's problems and whether its value can be checked
// further: it can when they are all unknown fields, which leave every known
// field decoded, so the entry's other problems show in the same run.
func usable[T any](l *loader, file string, offset int, e *located[T]) bool {
	if e.err == nil {
		return true
	}
	l.yamlError(file, offset, e.err, &e.v)
	var te *yaml.TypeError
	if !errors.As(e.err, &te) {
		return false
	}
	for _, m := range te.Errors {
		if _, rest, ok := cutLine(m); !ok || !isUnknownField(rest) {
			return false
		}
	}
	return true
}

// nodeOf captures the node a value is decoded from, without decoding it.
type nodeOf struct{ *yaml.Node }

func (n *nodeOf) UnmarshalYAML(node *yaml.Node) error {
	n.Node = node
	return nil
}

// lineError is a decoding problem at node's line, in the form yaml.v3
// reports its own, so it is listed with them.
func lineError(node *yaml.Node, msg string) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", node.Line, msg)}}
}

func setPos(v any, p Pos) {
	reflect.ValueOf(v).Elem().FieldByName("Pos").Set(reflect.ValueOf(p))
}

// yamlError turns a yaml.v3 error into problems with file and line. The
// library names Go types in its unknown-field message; that one is
// reworded with the fields the entry may have.
func (l *loader) yamlError(file string, offset int, err error, into any) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	known := knownFields(reflect.TypeOf(into))
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		line := 0
		if n, rest, ok := cutLine(m); ok {
			line, m = n+offset, rest
		}
		if what, typ, ok := strings.Cut(strings.TrimPrefix(m, "cannot unmarshal "), " into "); ok && known[typ] != nil {
			m = "expected a mapping of field: value, not " + what
		} else if field, typ, ok := unknownField(m); ok {
			m = fmt.Sprintf("unknown field %q", field)
			if names := known[typ]; len(names) > 0 {
				m += " (known: " + strings.Join(names, ", ") + ")"
			}
		}
		l.add(file, line, "%s", m)
	}
}

// isUnknownField reports whether m is yaml.v3's unknown-field message.
func isUnknownField(m string) bool {
	_, _, ok := unknownField(m)
	return ok
}

// unknownField reads yaml.v3's "field X not found in type T".
func unknownField(m string) (field, typ string, ok bool) {
	rest, ok := strings.CutPrefix(m, "field ")
	if !ok {
		return "", "", false
	}
	field, typ, ok = strings.Cut(rest, " not found in type ")
	return field, typ, ok
}

// knownFields maps each struct type reachable from t, by the name yaml.v3
// prints, to its YAML field names.
func knownFields(t reflect.Type) map[string][]string {
	out := map[string][]string{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || out[t.String()] != nil {
			return
		}
		out[t.String()] = []string{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag != "" && tag != "-" {
				out[t.String()] = append(out[t.String()], tag)
			}
			walk(f.Type)
		}
	}
	walk(t)
	return out
}

// cutLine splits "line 12: message" into 12 and "message".
func cutLine(m string) (int, string, bool) {
	rest, ok := strings.CutPrefix(m, "line ")
	if !ok {
		return 0, m, false
	}
	num, msg, ok := strings.Cut(rest, ": ")
	if !ok {
		return 0, m, false
	}
	var n int
	if _, err := fmt.Sscanf(num, "%d", &n); err != nil {
		return 0, m, false
	}
	return n, msg, true
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// note reads a Markdown note with YAML front matter.
func (l *loader) note(file string) (Note, bool) {
	data, err := fs.ReadFile(l.fsys, file)
	if err != nil {
		l.add(file, 0, "%v", unwrapPath(err))
		return Note{}, false
	}
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	text := string(data)
	if !strings.HasPrefix(text, "---\n") {
		l.add(file, 1, "missing front matter: the file must start with a line \"---\"")
		return Note{}, false
	}
	front, body, ok := strings.Cut(text[4:], "\n---\n")
	if !ok {
		if f, found := strings.CutSuffix(text[4:], "\n---"); found {
			front, body, ok = f, "", true
		}
	}
	if !ok {
		l.add(file, 1, "front matter is not closed: add a line \"---\" after it")
		return Note{}, false
	}
	var e located[Note]
	before := len(l.problems)
	if !l.decodeFile(file, []byte(front), 1, &e, false) || len(l.problems) > before || !usable(l, file, 1, &e) {
		if e.node == nil && len(l.problems) == before {
			l.add(file, 2, "empty front matter")
		}
		return Note{}, false
	}
	n := e.v
	if n.Reviewed.Line > 0 {
		n.Reviewed.Line++ // below the opening "---"
	}
	n.Body = strings.TrimSpace(body)
	n.Pos = Pos{file, 1}
	if n.Body == "" {
		l.add(file, strings.Count(front, "\n")+3, "note has no body text")
	}
	if want := strings.TrimSuffix(path.Base(file), ".md"); n.ID != "" && n.ID != want {
		l.add(file, keyLine(e.node, "id")+1, "id %q does not match the file name (want %q)", n.ID, want)
	}
	return n, true
}

// sameServices reports whether a and b name the same services, in any order.
func sameServices(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
}

// keyLine returns the line of key in mapping node, or node's own line.
func keyLine(node *yaml.Node, key string) int {
	for i := 0; i+1 < len(node.Content); i += 2 {
		if node.Content[i].Value == key {
			return node.Content[i].Line
		}
	}
	return node.Line
}

// validate checks everything that spans files: required fields, known ids,
// duplicates and links.
func (l *loader) validate(b *Base, broken, incomplete []string) {
	notes := map[string]bool{}
	for _, id := range broken {
		notes[id] = true
	}
	for _, n := range b.Notes {
		notes[n.ID] = true
	}
	ids := map[string]map[string]Pos{}
	unique := func(kind, id string, p Pos) {
		if ids[kind] == nil {
			ids[kind] = map[string]Pos{}
		}
		if first, dup := ids[kind][id]; dup {
			l.add(p.File, p.Line, "duplicate %s id %q (first defined at %s:%d)", kind, id, first.File, first.Line)
			return
		}
		ids[kind][id] = p
	}
	require := func(p Pos, what string, fields ...string) {
		for i := 0; i+1 < len(fields); i += 2 {
			if strings.TrimSpace(fields[i+1]) == "" {
				l.add(p.File, p.Line, "%s: missing field %q", what, fields[i])
			}
		}
	}
	services := func(p Pos, what, field string, ss []string, atLeastOne bool) {
		if atLeastOne && len(ss) == 0 {
			l.add(p.File, p.Line, "%s: missing field %q (at least one service id)", what, field)
		}
		for _, s := range ss {
			if !slices.Contains(ServiceIDs, s) {
				l.add(p.File, p.Line, "%s: unknown service id %q in %q (known: %s)", what, s, field, strings.Join(ServiceIDs, ", "))
			}
		}
	}
	link := func(p Pos, what, field, id string) {
		if id != "" && !notes[id] {
			l.add(p.File, p.Line, "%s: %s %q is not a note id", what, field, id)
		}
	}

	for _, s := range b.Services {
		what := fmt.Sprintf("service %q", s.ID)
		require(s.Pos, what, "id", s.ID, "name", s.Name, "summary", s.Summary, "control", s.Control,
			"pricing", s.Pricing, "pick_when", s.PickWhen, "avoid_when", s.AvoidWhen, "note", s.Note)
		if s.ID != "" {
			services(s.Pos, what, "id", []string{s.ID}, false)
			unique("service", s.ID, s.Pos)
		}
		link(s.Pos, what, "note", s.Note)
		l.checkSources(s.Pos, what, s.Sources)
		if s.Reviewed.IsZero() {
			l.add(s.Pos.File, s.Pos.Line, "%s: missing field %q (the date the sheet was last checked, YYYY-MM-DD)", what, "reviewed")
		}
		switch {
		case s.Status.State == "":
			l.add(s.Pos.File, s.Pos.Line, "%s: missing field %q (%s, %s on DATE or %s on DATE)", what, "status", Available, Closed, Retiring)
		case s.Status.State != Available && strings.TrimSpace(s.Instead) == "":
			l.add(s.Pos.File, s.Pos.Line, "%s: status %q needs %q: what AWS points customers to", what, s.Status, "instead")
		case s.Status.State == Available && s.Instead != "":
			l.add(s.Pos.File, s.Pos.Line, "%s: %q is only for a service that is closed to new customers or retiring", what, "instead")
		}
	}
	if !slices.Contains(incomplete, "services.yaml") {
		for _, id := range ServiceIDs {
			if _, ok := ids["service"][id]; !ok {
				l.add("services.yaml", 0, "no entry for service %q", id)
			}
		}
	}
	for _, n := range b.Notes {
		what := fmt.Sprintf("note %q", n.ID)
		require(n.Pos, what, "id", n.ID, "title", n.Title)
		services(n.Pos, what, "services", n.Services, true)
		if n.ID != "" {
			unique("note", n.ID, n.Pos)
		}
		for _, r := range n.Related {
			link(n.Pos, what, "related", r)
		}
		l.checkSources(n.Pos, what, n.Sources)
		if n.Reviewed.IsZero() {
			l.add(n.Pos.File, n.Pos.Line, "%s: missing field %q (the date the note was last checked, YYYY-MM-DD)", what, "reviewed")
		}
	}
	for _, s := range b.Scenarios {
		what := fmt.Sprintf("scenario %q", s.ID)
		require(s.Pos, what, "id", s.ID, "need", s.Need, "answer", s.Answer, "because", s.Because, "note", s.Note)
		services(s.Pos, what, "use", s.Use, true)
		// consider may be empty: an alternative names other services.
		for _, a := range s.Consider {
			services(s.Pos, what, "consider.use", a.Use, true)
			require(s.Pos, what, "consider.when", a.When)
			if sameServices(a.Use, s.Use) {
				l.add(s.Pos.File, s.Pos.Line, "%s: consider.use %v is the recommendation itself; name another service or leave consider out", what, a.Use)
			}
		}
		if s.ID != "" {
			unique("scenario", s.ID, s.Pos)
		}
		link(s.Pos, what, "note", s.Note)
	}
	for _, q := range b.Questions {
		what := fmt.Sprintf("question %q", q.ID)
		require(q.Pos, what, "id", q.ID, "question", q.Question, "note", q.Note)
		if !slices.Contains(Topics, q.Topic) {
			l.add(q.Pos.File, q.Pos.Line, "%s: topic %q is not one of %s", what, q.Topic, strings.Join(Topics, ", "))
		}
		if !slices.Contains(Difficulties, q.Difficulty) {
			l.add(q.Pos.File, q.Pos.Line, "%s: difficulty %q is not one of %s", what, q.Difficulty, strings.Join(Difficulties, ", "))
		}
		if len(q.Choices) < 2 || len(q.Choices) > 5 {
			l.add(q.Pos.File, q.Pos.Line, "%s: has %d choices, want 2 to 5", what, len(q.Choices))
		}
		correct := 0
		for i, c := range q.Choices {
			require(q.Pos, fmt.Sprintf("%s choice %d", what, i+1), "text", c.Text, "why", c.Why)
			if c.Correct {
				correct++
			}
		}
		if correct != 1 {
			l.add(q.Pos.File, q.Pos.Line, "%s: has %d correct choices, want exactly one", what, correct)
		}
		if q.ID != "" {
			unique("question", q.ID, q.Pos)
		}
		link(q.Pos, what, "note", q.Note)
	}
}
