package content

import (
	"bytes"
	"errors"
	"fmt"
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
	for _, p := range parts {
		l.problems = append(l.problems, p.problems...)
		b.Services = append(b.Services, p.b.Services...)
		b.Notes = append(b.Notes, p.b.Notes...)
		b.Scenarios = append(b.Scenarios, p.b.Scenarios...)
		b.Questions = append(b.Questions, p.b.Questions...)
	}
	l.validate(b)
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
		b.services[b.Services[i].ID] = &b.Services[i]
	}
}

type loader struct {
	fsys     fs.FS
	problems Problems
}

// part is what one file contributes to a Base.
type part struct {
	loader
	b Base
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

// readYAML parses file and returns its top node, or nil when the file is
// missing (a problem only if required), unreadable, invalid or empty.
func (l *loader) readYAML(file string, required bool) *yaml.Node {
	data, err := fs.ReadFile(l.fsys, file)
	if err != nil {
		if required || !errors.Is(err, fs.ErrNotExist) {
			l.add(file, 0, "%v", unwrapPath(err))
		}
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		l.yamlError(file, 0, err)
		return nil
	}
	if len(doc.Content) == 0 {
		if required {
			l.add(file, 1, "empty file")
		}
		return nil
	}
	return doc.Content[0]
}

// list decodes a YAML file holding a sequence of mappings into *[]T,
// recording each element's position and every problem with its line.
func list[T any](l *loader, file string, out *[]T, required bool) {
	seq := l.readYAML(file, required)
	if seq == nil {
		return
	}
	if seq.Kind != yaml.SequenceNode {
		l.add(file, seq.Line, "expected a list of entries (each starting with \"- \")")
		return
	}
	for _, item := range seq.Content {
		var v T
		if l.decode(file, 0, item, &v) {
			setPos(&v, Pos{file, item.Line})
			*out = append(*out, v)
		}
	}
}

func setPos(v any, p Pos) {
	reflect.ValueOf(v).Elem().FieldByName("Pos").Set(reflect.ValueOf(p))
}

// decode checks node against the fields of v and decodes it. offset is added
// to line numbers (front matter starts below the first line of a note).
func (l *loader) decode(file string, offset int, node *yaml.Node, v any) bool {
	if node.Kind != yaml.MappingNode {
		l.add(file, node.Line+offset, "expected a mapping of field: value")
		return false
	}
	// Unknown fields are reported but the entry is kept, so its other
	// problems are found in the same run.
	l.checkFields(file, offset, node, reflect.TypeOf(v).Elem())
	if err := node.Decode(v); err != nil {
		l.yamlError(file, offset, err)
		return false
	}
	return true
}

// checkFields reports keys that are not fields of t, recursing into nested
// mappings and lists of mappings.
func (l *loader) checkFields(file string, offset int, node *yaml.Node, t reflect.Type) {
	if node.Kind != yaml.MappingNode || t.Kind() != reflect.Struct {
		return
	}
	fields := map[string]reflect.Type{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = t.Field(i).Type
		names = append(names, tag)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(node.Content); i += 2 {
		k, val := node.Content[i], node.Content[i+1]
		ft, ok := fields[k.Value]
		if !ok {
			l.add(file, k.Line+offset, "unknown field %q (known: %s)", k.Value, strings.Join(names, ", "))
			continue
		}
		if seen[k.Value] {
			l.add(file, k.Line+offset, "field %q given twice", k.Value)
		}
		seen[k.Value] = true
		switch {
		case ft.Kind() == reflect.Struct:
			l.checkFields(file, offset, val, ft)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && val.Kind == yaml.SequenceNode:
			for _, item := range val.Content {
				if item.Kind != yaml.MappingNode {
					l.add(file, item.Line+offset, "field %q: expected a list of mappings", k.Value)
					continue
				}
				l.checkFields(file, offset, item, ft.Elem())
			}
		}
	}
}

// yamlError turns a yaml.v3 error into problems with file and line.
func (l *loader) yamlError(file string, offset int, err error) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		line := 0
		if n, rest, ok := cutLine(m); ok {
			line, m = n+offset, rest
		}
		l.add(file, line, "%s", m)
	}
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
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(front), &doc); err != nil {
		l.yamlError(file, 1, err)
		return Note{}, false
	}
	if len(doc.Content) == 0 {
		l.add(file, 2, "empty front matter")
		return Note{}, false
	}
	var n Note
	if !l.decode(file, 1, doc.Content[0], &n) {
		return Note{}, false
	}
	n.Body = strings.TrimSpace(body)
	n.Pos = Pos{file, 1}
	if n.Body == "" {
		l.add(file, strings.Count(front, "\n")+3, "note has no body text")
	}
	if want := strings.TrimSuffix(path.Base(file), ".md"); n.ID != "" && n.ID != want {
		l.add(file, 2, "id %q does not match the file name (want %q)", n.ID, want)
	}
	return n, true
}

// validate checks everything that spans files: required fields, known ids,
// duplicates and links.
func (l *loader) validate(b *Base) {
	notes := map[string]bool{}
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
	}
	if len(b.Services) > 0 || !l.failed("services.yaml") {
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
	}
	for _, s := range b.Scenarios {
		what := fmt.Sprintf("scenario %q", s.ID)
		require(s.Pos, what, "id", s.ID, "need", s.Need, "answer", s.Answer, "because", s.Because, "note", s.Note)
		services(s.Pos, what, "use", s.Use, true)
		if len(s.Consider) == 0 {
			l.add(s.Pos.File, s.Pos.Line, "%s: missing field %q (at least one alternative)", what, "consider")
		}
		for _, a := range s.Consider {
			services(s.Pos, what, "consider.use", a.Use, true)
			require(s.Pos, what, "consider.when", a.When)
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

// failed reports whether a problem was already recorded for file.
func (l *loader) failed(file string) bool {
	for _, p := range l.problems {
		if p.File == file {
			return true
		}
	}
	return false
}
