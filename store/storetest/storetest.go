// Package storetest gives tests a database of their own on the PostgreSQL
// server named by SHIPMATE_TEST_DATABASE_URL (.ci/run starts one).
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that points the tests at a PostgreSQL server,
// and envCI the one CI sets. (Test support, not settings of Shipmate: they
// are not in cmd/shipmate's envVars.)
const (
	EnvURL = "SHIPMATE_TEST_DATABASE_URL"
	envCI  = "CI"
)

// PostgresURL creates an empty database for t and returns its URL; the
// database is dropped when t ends. Without SHIPMATE_TEST_DATABASE_URL the
// test is skipped, saying so, except under CI (CI set), where it fails:
// CI always provides a server.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv(envCI) != "" {
			t.Fatalf("%s is not set under CI: .ci/run should have started PostgreSQL", EnvURL)
		}
		t.Skipf("no PostgreSQL server: set %s=postgres://… (bash .ci/run starts one) to run the PostgreSQL half", EnvURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvURL, err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "shipmate_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}
