// Package content holds Shipmate's knowledge base: the concept notes, the
// "which service for X?" scenarios, the quiz bank, the service sheets used by
// explain and compare, and the lexicon and capabilities used to understand
// questions. The
// files are embedded in the binary; Load reads any directory with the same
// layout so a team can serve its own copy.
package content

import "embed"

// Embedded is the knowledge base shipped with Shipmate.
//
//go:embed services.yaml lexicon.yaml capabilities.yaml notes scenarios quiz
var Embedded embed.FS

// ServiceIDs are the canonical service ids, in display order.
var ServiceIDs = []string{"ecs", "eks", "fargate", "ec2", "ecr", "app-runner", "lambda"}

// Topics a quiz question may belong to.
var Topics = []string{"ecs", "eks", "fargate", "ec2", "ecr", "app-runner", "lambda", "patterns"}

// Difficulties a quiz question may have.
var Difficulties = []string{"easy", "medium", "hard"}

// Pos is where something was defined.
type Pos struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

// Service is the sheet for one service, used by explain and compare.
type Service struct {
	ID        string   `yaml:"id"`
	Name      string   `yaml:"name"`
	Aliases   []string `yaml:"aliases"`
	Summary   string   `yaml:"summary"`
	Control   string   `yaml:"control"`
	Pricing   string   `yaml:"pricing"`
	PickWhen  string   `yaml:"pick_when"`
	AvoidWhen string   `yaml:"avoid_when"`
	Note      string   `yaml:"note"`
	// Status is whether new customers can use the service.
	Status Status `yaml:"status"`
	// Instead is what AWS points customers to when the service is closed
	// to new customers or retiring.
	Instead string `yaml:"instead"`
	// Sources are the documentation pages the sheet was checked against,
	// on the date Reviewed.
	Sources  []string `yaml:"sources"`
	Reviewed Date     `yaml:"reviewed"`
	// Caveat is said by every answer that recommends the service: made
	// from Status, empty while the service is simply available.
	Caveat string `yaml:"-"`
	Pos    Pos    `yaml:"-"`
}

// Note is a concept note: Markdown with front matter.
type Note struct {
	ID       string   `yaml:"id"`
	Title    string   `yaml:"title"`
	Services []string `yaml:"services"`
	Keywords []string `yaml:"keywords"`
	Related  []string `yaml:"related"`
	// Sources are the documentation pages the note was checked against,
	// on the date Reviewed.
	Sources  []string `yaml:"sources"`
	Reviewed Date     `yaml:"reviewed"`
	Body     string   `yaml:"-"`
	Pos      Pos      `yaml:"-"`
}

// Scenario is one need and the service that meets it.
type Scenario struct {
	ID       string        `yaml:"id"`
	Need     string        `yaml:"need"`
	Use      []string      `yaml:"use"`
	Answer   string        `yaml:"answer"`
	Because  string        `yaml:"because"`
	Consider []Alternative `yaml:"consider"`
	Note     string        `yaml:"note"`
	Keywords []string      `yaml:"keywords"`
	Examples []string      `yaml:"examples"`
	// Satisfies lists the needs (lexicon.yaml) the recommendation meets.
	Satisfies []string `yaml:"satisfies"`
	Pos       Pos      `yaml:"-"`
}

// Alternative is a service that wins over the recommendation in some case.
type Alternative struct {
	Use  []string `yaml:"use"`
	When string   `yaml:"when"`
}

// Question is a multiple-choice quiz question with exactly one correct choice.
type Question struct {
	ID         string   `yaml:"id"`
	Topic      string   `yaml:"topic"`
	Difficulty string   `yaml:"difficulty"`
	Question   string   `yaml:"question"`
	Choices    []Choice `yaml:"choices"`
	Note       string   `yaml:"note"`
	Pos        Pos      `yaml:"-"`
}

// Choice is one answer to a quiz question.
type Choice struct {
	Text    string `yaml:"text"`
	Correct bool   `yaml:"correct"`
	Why     string `yaml:"why"`
}

// Correct returns the index of the correct choice.
func (q *Question) Correct() int {
	for i, c := range q.Choices {
		if c.Correct {
			return i
		}
	}
	return -1
}

// Base is a loaded, validated knowledge base.
type Base struct {
	Services  []Service
	Notes     []Note
	Scenarios []Scenario
	Questions []Question
	// Lexicon is how questions are read; Capabilities are what each
	// service can and cannot do.
	Lexicon      *Lexicon
	Capabilities []Capability

	notes    map[string]*Note
	services map[string]*Service
}

// Note returns the note with the given id, or nil.
func (b *Base) Note(id string) *Note { return b.notes[id] }

// Service returns the service sheet with the given id, or nil.
func (b *Base) Service(id string) *Service { return b.services[id] }

// Question returns the quiz question with the given id, or nil.
func (b *Base) Question(id string) *Question {
	for i := range b.Questions {
		if b.Questions[i].ID == id {
			return &b.Questions[i]
		}
	}
	return nil
}
