package cli

import (
	"flag"
	"io"
)

// flagSet is a command's flag set: the configuration flags plus the command's own.
type flagSet struct {
	*flag.FlagSet
	help bool
}

func newFlagSet(args []string, stderr io.Writer) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet("wagate", flag.ContinueOnError)}
	fs.SetOutput(stderr)
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			fs.help = true
		}
	}
	return fs
}
