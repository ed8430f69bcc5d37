// Command shipmate answers "which AWS container service for X?" in Slack and
// in the terminal, and runs a daily quiz.
//
//	shipmate ask "QUESTION"     answer one question
//	shipmate chat               talk to Shipmate in the terminal
//	shipmate quiz [--id ID]     one quiz question in the terminal
//	shipmate validate [DIR]     check a content directory
//	shipmate eval FILE.jsonl    measure answer quality on labelled questions
//	shipmate serve              run the Slack bot
//	shipmate healthcheck        exit 0 if a running serve is ready
//	shipmate gaps [week|month]  what Shipmate could not answer well
//	shipmate version            the version, commit and Go version
//
// Every command prints its usage with --help.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if err != errSilent {
			fmt.Fprintln(os.Stderr, "shipmate:", err)
		}
		os.Exit(exitCode(err))
	}
}

// errSilent fails the process without printing more: the command already
// said what was wrong.
var errSilent = silentError{}

type silentError struct{}

func (silentError) Error() string { return "failed" }

// errHelp ends a command that printed its usage because it was asked to
// (--help): run returns nil for it.
var errHelp = errors.New("help requested")

// usageError is a mistake on the command line (exit 2); usage says how to
// do it right.
type usageError struct{ msg, usage string }

func (e usageError) Error() string { return e.msg + "\n" + e.usage }

func exitCode(err error) int {
	if _, ok := err.(usageError); ok {
		return 2
	}
	return 1
}

// command is one entry of the command table, which drives dispatch, the
// program's usage and each command's --help.
type command struct {
	name    string
	args    string // what follows the name on the usage line
	summary string
	run     func(context.Context, env) error
	detail  string // more for --help
}

var commands []command

func init() {
	commands = []command{
		{"ask", `[--json] [--explain] "QUESTION"`, "answer one question", cmdAsk, ""},
		{"chat", "", "talk to Shipmate in the terminal", cmdChat,
			"Type a question, or a command: help lists them. On a terminal, the arrow keys\n" +
				"edit the line and recall earlier ones; Ctrl-D, Ctrl-C or exit leaves. A practice\n" +
				"question (quiz) takes its answer until the next one. From a pipe, chat answers\n" +
				"each line, plain, with no prompt. NO_COLOR turns colour off."},
		{"quiz", "[--id ID]", "answer one quiz question in the terminal (ID: that question)", cmdQuiz, ""},
		{"validate", "[--max-age AGE] [DIR]", "check a content directory (default: the built-in one)", cmdValidate, ""},
		{"eval", "[--min-precision P] [--min-abstain A] FILE.jsonl", "measure answer quality on labelled questions", cmdEval, ""},
		{"serve", "", "run the Slack bot (configured by the environment: see .env.example)", cmdServe,
			"serve also reads .env in the working directory; a variable set in the environment wins over the file."},
		{"healthcheck", "[--url URL] [--timeout D]", "exit 0 if the serve on HTTP_ADDR is ready, 1 if not", cmdHealthcheck, ""},
		{"gaps", "[week|month]", "the most-asked questions without a good answer", cmdGaps, ""},
		{"version", "", "print the version, commit and Go version", cmdVersion, ""},
	}
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func (c *command) line() string {
	return strings.TrimSpace("shipmate " + c.name + " " + c.args)
}

// usage is the program's usage, from the command table.
func usage() string {
	var b strings.Builder
	b.WriteString("usage:\n")
	for _, c := range commands {
		l := "shipmate " + c.name + " " + c.args
		if len(l) > 34 {
			fmt.Fprintf(&b, "  %s\n  %-34s %s\n", l, "", c.summary)
			continue
		}
		fmt.Fprintf(&b, "  %-34s %s\n", l, c.summary)
	}
	b.WriteString("  shipmate --version                 the same as shipmate version\n\n")
	b.WriteString("shipmate COMMAND --help explains a command and its flags.\n")
	b.WriteString("CONTENT_DIR=DIR serves a team's own content instead of the built-in one.")
	return b.String()
}

// run is the whole program; main only wires it to the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"no command given", usage()}
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && lookup(args[1]) != nil {
			return run(ctx, []string{args[1], "--help"}, getenv, stdin, stdout, stderr)
		}
		fmt.Fprintln(stdout, usage())
		return nil
	case "-version", "--version":
		args = append([]string{"version"}, args[1:]...)
	}
	cmd := lookup(args[0])
	if cmd == nil {
		if strings.HasPrefix(args[0], "-") {
			return usageError{fmt.Sprintf("unknown flag %q", args[0]), usage()}
		}
		return usageError{fmt.Sprintf("unknown command %q", args[0]), usage()}
	}
	err := cmd.run(ctx, env{cmd: cmd, args: args[1:], getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr})
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

// env is what a command gets from run.
type env struct {
	cmd            *command
	args           []string
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
}

// flags is the command's flag set, to be read with parse.
func (e env) flags() *flag.FlagSet {
	return flag.NewFlagSet(e.cmd.name, flag.ContinueOnError)
}

// parse reads the command line into fs the same way for every command:
// -h or --help prints the command's usage to stdout and ends it (exit 0);
// a flag it does not know is a usage error (exit 2) that shows the usage.
func (e env) parse(fs *flag.FlagSet) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(e.args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(e.stdout, e.help(fs))
		return errHelp
	}
	if err != nil {
		return usageError{err.Error(), e.help(fs)}
	}
	return nil
}

// usageErr is a mistake in the command's arguments.
func (e env) usageErr(fs *flag.FlagSet, format string, a ...any) error {
	return usageError{fmt.Sprintf(format, a...), e.help(fs)}
}

// help is the command's usage: what it does, and its flags.
func (e env) help(fs *flag.FlagSet) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "usage: %s\n\n%s.", e.cmd.line(), strings.ToUpper(e.cmd.summary[:1])+e.cmd.summary[1:])
	if e.cmd.detail != "" {
		b.WriteString("\n\n" + e.cmd.detail)
	}
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		b.WriteString("\n\nflags:\n")
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return strings.TrimRight(b.String(), "\n")
}
