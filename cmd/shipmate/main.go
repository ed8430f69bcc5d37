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
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
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

// usageError is a mistake on the command line (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg + "\n" + usage }

func exitCode(err error) int {
	if _, ok := err.(usageError); ok {
		return 2
	}
	return 1
}

const usage = `usage:
  shipmate ask [--json] "QUESTION"   answer one question
  shipmate chat                      talk to Shipmate in the terminal
  shipmate quiz [--id ID]            answer one quiz question in the terminal (ID: that question)
  shipmate validate [DIR]            check a content directory (default: the built-in one)
  shipmate eval [--min-precision P] [--min-abstain A] FILE.jsonl
                                     measure answer quality on labelled questions
  shipmate serve                     run the Slack bot (see .env.example)
  shipmate healthcheck               exit 0 if the serve on HTTP_ADDR is ready, 1 if not
  shipmate gaps [week|month]         the most-asked questions without a good answer

CONTENT_DIR=DIR serves a team's own content instead of the built-in one.`

// run is the whole program; main only wires it to the process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return usageError{"no command given"}
	}
	cmd, ok := commands[args[0]]
	if !ok {
		if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
			fmt.Fprintln(stdout, usage)
			return nil
		}
		return usageError{fmt.Sprintf("unknown command %q", args[0])}
	}
	return cmd(ctx, env{args: args[1:], getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr})
}

// env is what a command gets from run.
type env struct {
	args           []string
	getenv         func(string) string
	stdin          io.Reader
	stdout, stderr io.Writer
}

var commands map[string]func(context.Context, env) error

func init() {
	commands = map[string]func(context.Context, env) error{
		"ask":         cmdAsk,
		"chat":        cmdChat,
		"quiz":        cmdQuiz,
		"validate":    cmdValidate,
		"eval":        cmdEval,
		"serve":       cmdServe,
		"healthcheck": cmdHealthcheck,
		"gaps":        cmdGaps,
	}
}
