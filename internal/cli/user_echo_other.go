//go:build !linux

package cli

import (
	"errors"
	"os"
)

// noEcho is not available on this system: passwords come from a file or a pipe.
func noEcho(*os.File) (func(), error) {
	return nil, errors.New("not supported on this system")
}
