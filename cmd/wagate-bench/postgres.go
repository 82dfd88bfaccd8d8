package main

import (
	"context"
	"fmt"

	"github.com/wagate/wagate/internal/store/postgres/pgtest"
)

// createDatabase creates an empty database on the server of adminURL and returns its URL and a func that drops
// it.
func createDatabase(ctx context.Context, adminURL string) (string, func() error, error) {
	dbURL, drop, err := pgtest.Create(ctx, adminURL, "wagate_bench_")
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", EnvPostgresURL, err)
	}
	return dbURL, drop, nil
}
