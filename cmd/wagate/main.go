// Command wagate is a self-hosted WhatsApp Business gateway. See the README.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/wagate/wagate/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
