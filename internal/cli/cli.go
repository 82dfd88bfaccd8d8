// Package cli holds wagate's subcommands: serve, migrate, send, check, webhook, simulate, events, token, user and
// version.
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/wagate/wagate/internal/config"
)

const usage = `wagate: a self-hosted WhatsApp Business gateway

Usage:
  wagate serve [flags]           run the gateway (demo mode on SQLite with no configuration)
  wagate migrate [flags]         apply database migrations and exit
  wagate simulate message|receipt [flags]
                                 post a realistic provider webhook to a running wagate
  wagate send --to +34... --text "Hola"
                                 send a message through a running wagate and wait for the outcome
  wagate check [--channel NAME]  check each channel's provider connection and webhook setup
  wagate webhook register [--channel NAME]
                                 register the channel's webhook URL (and secret) at 360dialog
  wagate templates list|sync [--channel NAME]
                                 show the synced templates, or read them from the provider now
  wagate events list [--state failed]
  wagate events replay ID        process a stored webhook event again
  wagate backup --out FILE       write a checked, consistent copy of the SQLite database while wagate runs
  wagate migrate-data --to postgres://...
                                 copy everything from the SQLite database into an empty PostgreSQL one
  wagate token create --name NAME --scopes send,read,admin
                                 create an API token (shown once); also token list, token revoke ID
  wagate user add --email E --role director|agent
                                 add a web UI user; also user list, user passwd, user disable
  wagate subscriptions add|list|test|enable|disable|remove|deliveries|replay
                                 deliver events to applications' webhooks
  wagate version                 print the version

Configuration comes from flags, then WAGATE_* environment variables, then the JSON file named by
WAGATE_CONFIG. Run 'wagate serve -h' for the flags and the README for every variable.
`

// Env is the process environment the commands read.
type Env struct {
	// Stdin is where `wagate user` reads a piped password; nil means there is none.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	ReadFile       func(string) ([]byte, error)
}

// Run runs the subcommand named by args[0] and returns the process exit code: 0 success, 1 failure, 2 usage.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	env := Env{Stdin: os.Stdin, Stdout: stdout, Stderr: stderr, Getenv: os.Getenv, ReadFile: os.ReadFile}
	return env.Run(ctx, args)
}

// Run is Run with an explicit environment (for tests).
func (e Env) Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.Stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return e.serve(ctx, args[1:])
	case "migrate":
		return e.migrate(ctx, args[1:])
	case "simulate":
		return runSimulate(ctx, args[1:], e.Stdout, e.Stderr, e.Getenv)
	case "events":
		return e.events(ctx, args[1:])
	case "subscriptions":
		return e.subscriptions(ctx, args[1:])
	case "send":
		return e.send(ctx, args[1:])
	case "check":
		return e.check(ctx, args[1:])
	case "token":
		return e.token(ctx, args[1:])
	case "user":
		return e.user(ctx, args[1:])
	case "webhook":
		return e.webhook(ctx, args[1:])
	case "backup":
		return e.backup(ctx, args[1:])
	case "migrate-data":
		return e.migrateData(ctx, args[1:])
	case "templates":
		return e.templates(ctx, args[1:])
	case "version", "--version", "-version":
		fmt.Fprintln(e.Stdout, "wagate", version())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(e.Stdout, usage)
		return 0
	}
	fmt.Fprintf(e.Stderr, "wagate: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// load reads the configuration; on failure it prints every problem and returns nil.
func (e Env) load(args []string, extra func(*flagSet)) *config.Config {
	cfg, _ := e.loadArgs(args, extra)
	return cfg
}

// loadArgs is load that also returns the positional arguments left after the flags.
func (e Env) loadArgs(args []string, extra func(*flagSet)) (*config.Config, []string) {
	fs := newFlagSet(args, e.Stderr)
	if extra != nil {
		extra(fs)
	}
	cfg, err := config.LoadFlags(fs.FlagSet, args, e.Getenv, e.ReadFile)
	if err != nil {
		if fs.help {
			return nil, nil
		}
		fmt.Fprintf(e.Stderr, "wagate: invalid configuration:\n")
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(e.Stderr, "  - %s\n", line)
		}
		return nil, nil
	}
	return cfg, fs.Args()
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.SlogLevel()}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
