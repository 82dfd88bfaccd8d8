// Package pgtest gives tests a fresh PostgreSQL database on the server named by WAGATE_TEST_POSTGRES_URL
// (which the test script starts and exports). Without that variable tests skip, except under CI, where a missing
// server is a failure: a skipped database test must never pass for a tested one.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable holding the admin URL of the throwaway test server.
const EnvURL = "WAGATE_TEST_POSTGRES_URL"

// URL returns the admin URL, skipping (or failing under CI) when there is none.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: run the tests with scripts/test.sh, which starts PostgreSQL", EnvURL)
		}
		t.Skipf("%s is not set: PostgreSQL tests need scripts/test.sh", EnvURL)
	}
	return u
}

// NewDatabase creates an empty database for this test and returns its URL; it is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := URL(t)
	name := "wagate_t_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:20]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return fmt.Sprint(u)
}

// Create creates an empty database named prefix plus a random suffix on the server of adminURL, for harnesses
// without a testing.TB (benchmarks, fault drills), and returns its URL and a func that drops it (closing any
// connection still open to it).
func Create(ctx context.Context, adminURL, prefix string) (string, func() error, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("pgtest: admin URL: %w", err)
	}
	name := prefix + strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, adminURL)
	if err != nil {
		return "", nil, fmt.Errorf("pgtest: connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(cctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	drop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminURL)
		if err != nil {
			return fmt.Errorf("pgtest: drop database %s: %w", name, err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("pgtest: drop database %s: %w", name, err)
		}
		return nil
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}
