// Package bot is Shipmate's conversation layer: the command table shared by
// the terminal chat and Slack, the renderers for both, and the Slack socket
// mode bot itself.
package bot

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"shipmate/content"
	"shipmate/index"
)

// Answerer answers a free-text question. *index.Index implements it.
type Answerer interface {
	Answer(ctx context.Context, q index.Query) (index.Answer, error)
}

// Request is one command invocation.
type Request struct {
	User string // Slack user id, or "" in the terminal
	Args string // the text after the command name
	// History holds the earlier turns of the conversation the command was
	// given in (a Slack thread), oldest first.
	History []Turn
}

// Reply is what a command says. Exactly one of its parts is set; the
// terminal and Slack render it each in their own way.
type Reply struct {
	Answer   *index.Answer     // ask
	Service  *content.Service  // explain
	Note     *content.Note     // explain: the service's note
	Compare  []content.Service // compare: two services side by side
	Question *content.Question // quiz: a practice question
	Help     []Command         // help
	Gaps     *GapsReply        // gaps
	Text     string            // anything else, e.g. an error for the user

	// Private asks for a reply only the asker sees, even when asked in a
	// channel: scores mention people, and a public list would ping them.
	Private bool
}

// Command is one entry of the command table. The table drives both dispatch
// and the help text, so they cannot drift apart.
type Command struct {
	Name    string
	Aliases []string
	Usage   string
	Help    string
	Run     func(ctx context.Context, c *Commands, req Request) (Reply, error)
}

// Commands dispatches text to the command table.
type Commands struct {
	answerer Answerer
	base     *content.Base
	table    []Command
	pick     func(n int) int // random choice, injectable for tests
	quiz     QuizService     // nil: no daily quiz
	now      func() time.Time
	// written, when set, waits until the records a bot handed over to be
	// written behind its replies are in the store (the gaps report reads
	// the store).
	written func(ctx context.Context)
}

// NewCommands returns the shared command table over an answerer and the
// knowledge base it was built from. extra commands (Slack-only ones such as
// the leaderboard) are added to the table and the help.
func NewCommands(a Answerer, b *content.Base, extra ...Command) *Commands {
	c := &Commands{answerer: a, base: b, pick: rand.IntN}
	c.table = append(slices.Clone(coreCommands), extra...)
	return c
}

// Table returns the commands in help order.
func (c *Commands) Table() []Command { return c.table }

var coreCommands = []Command{
	{
		Name: "ask", Usage: "ask <question>",
		Help: "Which service for X? Get the recommendation, the why and the alternatives.",
		Run: func(ctx context.Context, c *Commands, req Request) (Reply, error) {
			if strings.TrimSpace(req.Args) == "" {
				return Reply{Text: "Ask me something like `ask run containers without managing servers`."}, nil
			}
			a, err := c.answerer.Answer(ctx, index.Query{Text: req.Args, History: indexTurns(req.History)})
			if err != nil {
				return Reply{}, fmt.Errorf("answer %q: %w", req.Args, err)
			}
			return Reply{Answer: &a}, nil
		},
	},
	{
		Name: "explain", Usage: "explain <service>",
		Help: "What a service is, what you manage, how it is priced, when to pick it; or any concept.",
		Run: func(ctx context.Context, c *Commands, req Request) (Reply, error) {
			s := c.findService(req.Args)
			if s == nil && strings.TrimSpace(req.Args) != "" {
				// "explain task definitions": a concept, not a service.
				return c.run(ctx, "ask", req)
			}
			if s == nil {
				return Reply{Text: "Which service? I can explain " + c.serviceNames() + ", or any concept: `explain capacity providers`."}, nil
			}
			return Reply{Service: s, Note: c.base.Note(s.Note)}, nil
		},
	},
	{
		Name: "compare", Usage: "compare <service> <service>",
		Help: "Two services side by side: control, pricing, when to pick, what to avoid.",
		Run: func(ctx context.Context, c *Commands, req Request) (Reply, error) {
			a, b := c.findPair(req.Args)
			if a == nil || b == nil {
				return Reply{Text: "Compare which two? For example `compare ecs eks`. I know " + c.serviceNames() + "."}, nil
			}
			if a.ID == b.ID {
				return Reply{Text: "Those are the same service. Try `explain " + a.ID + "`."}, nil
			}
			return Reply{Compare: []content.Service{*a, *b}}, nil
		},
	},
	{
		Name: "quiz", Usage: "quiz",
		Help: "A practice question just for you (it does not score). Admins: quiz post-now|reveal-now|skip|pause|resume.",
		Run: func(ctx context.Context, c *Commands, req Request) (Reply, error) {
			if req.Args != "" && c.quiz != nil {
				return c.quizAdmin(ctx, req.User, req.Args)
			}
			if len(c.base.Questions) == 0 {
				return Reply{Text: "The quiz bank is empty."}, nil
			}
			q := c.base.Questions[c.pick(len(c.base.Questions))]
			return Reply{Question: &q}, nil
		},
	},
	{
		Name: "help", Aliases: []string{"?", "commands"}, Usage: "help",
		Help: "This list.",
		Run: func(ctx context.Context, c *Commands, req Request) (Reply, error) {
			return Reply{Help: c.table}, nil
		},
	},
}

// ErrUnknown is wrapped by the error for a command name that is not in the
// table.
var ErrUnknown = errors.New("unknown command")

// Dispatch runs the command named by the first word of text. Text that
// starts with no known command is a question: "which service for batch?"
// works as well as "ask which service for batch?". An empty text gets help.
func (c *Commands) Dispatch(ctx context.Context, user, text string) (Reply, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return c.run(ctx, "help", Request{User: user})
	}
	name, args, _ := strings.Cut(text, " ")
	if cmd := c.lookup(name); cmd != nil {
		return cmd.Run(ctx, c, Request{User: user, Args: strings.TrimSpace(args)})
	}
	return c.run(ctx, "ask", Request{User: user, Args: text})
}

func (c *Commands) run(ctx context.Context, name string, req Request) (Reply, error) {
	cmd := c.lookup(name)
	if cmd == nil {
		return Reply{}, fmt.Errorf("%w: %s", ErrUnknown, name)
	}
	return cmd.Run(ctx, c, req)
}

func (c *Commands) lookup(name string) *Command {
	name = strings.ToLower(strings.TrimPrefix(name, "/"))
	for i := range c.table {
		if c.table[i].Name == name || slices.Contains(c.table[i].Aliases, name) {
			return &c.table[i]
		}
	}
	return nil
}

// findService resolves a user's name for a service: the id, the name, an
// alias, or a short form like "app runner" or "elastic kubernetes service".
func (c *Commands) findService(text string) *content.Service {
	t := serviceKey(text)
	if t == "" {
		return nil
	}
	for i := range c.base.Services {
		s := &c.base.Services[i]
		for _, k := range serviceKeys(s) {
			if k == t {
				return s
			}
		}
	}
	return nil
}

// findPair finds two services in text such as "ecs eks", "ecs vs eks",
// "app runner and ecs" or "fargate, ec2 launch type".
func (c *Commands) findPair(text string) (*content.Service, *content.Service) {
	ws := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return r == ' ' || r == ',' || r == '/' || r == '|' || r == '&'
	})
	ws = slices.DeleteFunc(ws, func(w string) bool {
		return w == "vs" || w == "vs." || w == "versus" || w == "and" || w == "or" || w == "with"
	})
	// Try every split point: the left part names one service, the right the other.
	for i := 1; i < len(ws); i++ {
		a, b := c.findService(strings.Join(ws[:i], " ")), c.findService(strings.Join(ws[i:], " "))
		if a != nil && b != nil {
			return a, b
		}
	}
	return nil, nil
}

func (c *Commands) serviceNames() string {
	ids := make([]string, len(c.base.Services))
	for i, s := range c.base.Services {
		ids[i] = "`" + s.ID + "`"
	}
	return strings.Join(ids, ", ")
}

func serviceKeys(s *content.Service) []string {
	keys := []string{serviceKey(s.ID), serviceKey(s.Name)}
	for _, a := range s.Aliases {
		keys = append(keys, serviceKey(a))
	}
	short := serviceKey(strings.TrimPrefix(strings.TrimPrefix(s.Name, "Amazon "), "AWS "))
	return append(keys, short)
}

var serviceKeyReplacer = strings.NewReplacer("-", " ", "_", " ", "`", "")

// serviceKey folds a service name for comparison: lower case, hyphens and
// repeated spaces as one space, "amazon"/"aws" prefixes dropped.
func serviceKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = serviceKeyReplacer.Replace(s)
	s = strings.Join(strings.Fields(s), " ")
	s = strings.TrimPrefix(s, "amazon ")
	s = strings.TrimPrefix(s, "aws ")
	return s
}
