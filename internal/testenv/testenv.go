// Package testenv gives tests real infrastructure: a fresh PostgreSQL
// database, a headless browser and an SMTP server.
//
// Each helper takes the testing.TB of the calling test and registers its own
// cleanup, so a test reads as a list of the things that it needs:
//
//	dbURL := testenv.PostgresURL(t)
//	mail := testenv.SMTPServer(t)
//	agent := testenv.Browser(t)
//
// A helper whose dependency is missing skips the test with a loud message on
// a developer machine, and fails it when the environment variable CI is true:
// in CI a skipped test would hide a broken setup.
//
// Environment variables:
//
//	CI=true                     a missing dependency fails the test
//	REGULARS_TEST_POSTGRES_URL  server for PostgresURL, for example
//	                            postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//	REGULARS_TEST_CHROMIUM      browser binary for Browser
//	REGULARS_TEST_BROWSER       1: a missing browser fails the test, as in CI;
//	                            0: skip the browser tests
//	REGULARS_TEST_ARTIFACTS     folder for screenshots of failed browser tests
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// InCI reports whether the tests run in CI, where the environment variable CI
// is true.
func InCI() bool {
	v, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && v
}

// warned holds the kinds of missing dependencies that this test binary has
// already reported on stderr.
var warned sync.Map

// missing fails the test in CI, and skips it with a loud message otherwise.
// It reports a kind of dependency once per test binary on stderr too, because
// go test hides the skip messages without -v.
func missing(t testing.TB, kind, msg string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s (CI=true: a missing %s is a failure)", msg, kind)
	}
	if _, dup := warned.LoadOrStore(kind, true); !dup {
		fmt.Fprintf(os.Stderr, "\n"+
			"!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"+
			"!!! WARNING: tests that need %s are SKIPPED in this package\n"+
			"!!! %s\n"+
			"!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n",
			kind, msg)
	}
	t.Skipf("SKIPPING: %s", msg)
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// fileSafe turns a test name into a name that is safe for a file.
func fileSafe(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '_'
	}, name)
}
