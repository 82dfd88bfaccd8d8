package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wagate/wagate/internal/store/postgres"
)

func TestUnavailable_ClassifiesServerStates(t *testing.T) {
	var db *postgres.DB
	for code, want := range map[string]bool{
		"57P01": true,  // admin shutdown
		"57P03": true,  // cannot connect now (starting up)
		"08006": true,  // connection failure
		"53300": true,  // too many connections
		"25006": true,  // read-only transaction
		"23505": false, // unique violation: the request's problem
		"42P01": false, // undefined table: a bug
	} {
		err := fmt.Errorf("store: %w", &pgconn.PgError{Code: code})
		if got := db.Unavailable(err); got != want {
			t.Errorf("SQLSTATE %s: unavailable = %v, want %v", code, got, want)
		}
	}
	if db.Unavailable(errors.New("some bug")) {
		t.Error("a plain error counted as unavailability")
	}
}

// TestUnavailable_RealConnectionRefused checks the classification of what pgx returns when nothing listens.
func TestUnavailable_RealConnectionRefused(t *testing.T) {
	t.Parallel()
	_, err := postgres.Open(context.Background(), "postgres://wagate@127.0.0.1:1/wagate?sslmode=disable&connect_timeout=2", 2)
	if err == nil {
		t.Fatal("connected to port 1")
	}
	var db *postgres.DB
	if !db.Unavailable(err) {
		t.Errorf("connection refused not counted as unavailable: %v", err)
	}
}
