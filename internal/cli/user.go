package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wagate/wagate/internal/auth"
	"github.com/wagate/wagate/internal/server"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/web"
)

const userUsage = `Usage:
  wagate user add --email E --role director|agent [--name N] [--password-file F]
  wagate user list [--json]
  wagate user passwd --email E [--password-file F]
  wagate user disable --email E
  wagate user enable --email E

Users sign in to the web UI. The password comes from --password-file (its first line), else from standard
input when it is piped (echo "$PW" | wagate user add ...), else it is asked twice on the terminal.
Changing a password or disabling a user ends their sessions. The last active director cannot be disabled.
`

func (e Env) user(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(e.Stderr, userUsage)
		return 2
	}
	sub := args[0]
	switch sub {
	case "add", "list", "passwd", "disable", "enable":
	default:
		fmt.Fprint(e.Stderr, userUsage)
		return 2
	}
	var email, role, name, pwFile string
	var asJSON bool
	cfg, rest := e.loadArgs(args[1:], func(fs *flagSet) {
		switch sub {
		case "add", "passwd", "disable", "enable":
			fs.StringVar(&email, "email", "", "the user's email address")
		}
		switch sub {
		case "add":
			fs.StringVar(&role, "role", "", "director (administers) or agent (reads and answers)")
			fs.StringVar(&name, "name", "", "the name shown in the UI")
			fs.StringVar(&pwFile, "password-file", "", "read the password from the first line of this file")
		case "passwd":
			fs.StringVar(&pwFile, "password-file", "", "read the password from the first line of this file")
		case "list":
			fs.BoolVar(&asJSON, "json", false, "print JSON")
		}
	})
	if cfg == nil {
		return 2
	}
	if len(rest) > 0 {
		fmt.Fprintf(e.Stderr, "wagate user %s: unexpected argument %q\n\n%s", sub, rest[0], userUsage)
		return 2
	}
	email = strings.TrimSpace(email)
	if sub != "list" && !web.ValidEmail(email) {
		fmt.Fprintf(e.Stderr, "wagate user %s: --email: give the user's email address\n", sub)
		return 2
	}
	if sub == "add" && !web.ValidRole(role) {
		fmt.Fprintf(e.Stderr, "wagate user add: --role must be director or agent\n")
		return 2
	}
	var hash string
	if sub == "add" || sub == "passwd" {
		pw, err := e.readPassword(pwFile)
		if err != nil {
			fmt.Fprintf(e.Stderr, "wagate user %s: %v\n", sub, err)
			return 2
		}
		if err := auth.CheckPasswordPolicy(pw); err != nil {
			fmt.Fprintf(e.Stderr, "wagate user %s: %v\n", sub, err)
			return 2
		}
		if hash, err = auth.HashPassword(pw, auth.PasswordIterations); err != nil {
			fmt.Fprintf(e.Stderr, "wagate user %s: %v\n", sub, err)
			return 1
		}
	}
	b, err := server.OpenBackend(ctx, cfg)
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate user: %v\n", err)
		return 1
	}
	defer b.Close()
	if pending, err := b.Pending(ctx); err != nil || pending {
		fmt.Fprintln(e.Stderr, "wagate user: the database is not migrated: run 'wagate migrate' first")
		return 1
	}
	st := b.Store
	switch sub {
	case "add":
		u := store.User{Email: email, Name: strings.TrimSpace(name), Role: role, PasswordHash: hash}
		if err := st.UserInsert(ctx, &u); err != nil {
			if errors.Is(err, store.ErrUserExists) {
				fmt.Fprintf(e.Stderr, "wagate user add: %s exists already (change its password with wagate user passwd)\n", u.Email)
			} else {
				fmt.Fprintf(e.Stderr, "wagate user add: %v\n", err)
			}
			return 1
		}
		fmt.Fprintf(e.Stdout, "added %s (%s)\n", u.Email, u.Role)
		return 0
	case "list":
		return e.userList(ctx, st, asJSON)
	}
	u, err := st.UserGetByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		fmt.Fprintf(e.Stderr, "wagate user %s: no user %s (see wagate user list)\n", sub, email)
		return 1
	}
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate user %s: %v\n", sub, err)
		return 1
	}
	var done string
	switch sub {
	case "passwd":
		u.PasswordHash, done = hash, "changed the password of"
	case "disable":
		if u.Disabled() {
			fmt.Fprintf(e.Stdout, "%s is disabled already\n", u.Email)
			return 0
		}
		u.DisabledAt, done = time.Now(), "disabled"
	case "enable":
		u.DisabledAt, done = time.Time{}, "enabled"
	}
	if err := st.UserUpdate(ctx, u); errors.Is(err, store.ErrLastDirector) {
		fmt.Fprintf(e.Stderr, "wagate user %s: %s is the last active director: add another one first (wagate user add --role director)\n", sub, u.Email)
		return 1
	} else if err != nil {
		fmt.Fprintf(e.Stderr, "wagate user %s: %v\n", sub, err)
		return 1
	}
	fmt.Fprintf(e.Stdout, "%s %s\n", done, u.Email)
	return 0
}

func (e Env) userList(ctx context.Context, st *store.Store, asJSON bool) int {
	us, err := st.UserList(ctx)
	if err != nil {
		fmt.Fprintf(e.Stderr, "wagate user list: %v\n", err)
		return 1
	}
	if asJSON {
		out, _ := json.Marshal(us)
		fmt.Fprintln(e.Stdout, string(out))
		return 0
	}
	tw := tabwriter.NewWriter(e.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tLAST SIGN-IN\tDISABLED")
	for _, u := range us {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, when(u.Name == "", "-", u.Name), u.Role,
			when(u.LastLoginAt.IsZero(), "never", u.LastLoginAt.UTC().Format("2006-01-02 15:04")),
			when(u.Disabled(), u.DisabledAt.UTC().Format("2006-01-02 15:04"), "-"))
	}
	_ = tw.Flush()
	return 0
}

// readPassword reads the new password: from file (its first line), else from standard input when it is not a
// terminal (its first line), else from the terminal, asked twice without echo.
func (e Env) readPassword(file string) (string, error) {
	if file != "" {
		b, err := e.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--password-file: %w", err)
		}
		return firstLine(string(b)), nil
	}
	if e.Stdin == nil {
		return "", errors.New("no password: use --password-file or pipe it on standard input")
	}
	if f, ok := e.Stdin.(*os.File); ok && isTerminal(f) {
		return e.promptPassword(f)
	}
	line, err := bufio.NewReader(io.LimitReader(e.Stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	if line == "" {
		return "", errors.New("no password on standard input: pipe it in or use --password-file")
	}
	return firstLine(line), nil
}

// promptPassword asks for the password twice on the terminal f, without echo.
func (e Env) promptPassword(f *os.File) (string, error) {
	ask := func(prompt string) (string, error) {
		fmt.Fprint(e.Stderr, prompt)
		restore, err := noEcho(f)
		if err != nil {
			return "", fmt.Errorf("cannot hide the typed password (%v): use --password-file or pipe it on standard input", err)
		}
		line, rerr := bufio.NewReader(f).ReadString('\n')
		restore()
		fmt.Fprintln(e.Stderr)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return "", rerr
		}
		return firstLine(line), nil
	}
	pw, err := ask("Password: ")
	if err != nil {
		return "", err
	}
	again, err := ask("Password again: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("the two passwords differ")
	}
	return pw, nil
}

// firstLine is s up to its first line break, without the break.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

// isTerminal reports whether f is a character device (a terminal, as far as this needs to know).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
