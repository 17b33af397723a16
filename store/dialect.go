package store

import (
	"errors"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"

	"regulars"
)

// dialect holds everything that differs between SQLite and PostgreSQL.
type dialect string

const (
	sqlite   dialect = "sqlite"
	postgres dialect = "postgres"
)

var rebound sync.Map // map[string]string, for postgres

// rebind turns ? placeholders into $1, $2, … for PostgreSQL. Question marks
// inside quoted strings are left alone.
func (d dialect) rebind(q string) string {
	if d != postgres {
		return q
	}
	if v, ok := rebound.Load(q); ok {
		return v.(string)
	}
	orig := q
	q = foldCall.ReplaceAllString(q, foldedPostgres)
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	inString := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inString = !inString
			b.WriteByte(c)
		case c == '?' && !inString:
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	rebound.Store(orig, out)
	return out
}

// retryable reports whether a transaction failed for a transient reason.
func (d dialect) retryable(err error) bool {
	if d == postgres {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
	}
	msg := err.Error()
	return strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY")
}

// textError turns PostgreSQL's refusal of a NUL character in text into a
// refusal of the input (SQLite stores it; nothing that comes through the
// product's own checks holds one), and passes other errors on.
func (d dialect) textError(err error) error {
	var pe *pgconn.PgError
	if d == postgres && errors.As(err, &pe) && pe.Code == "22021" {
		return regulars.Errorf(regulars.EINVALID, "Text cannot hold a NUL character (\\u0000).")
	}
	return err
}

// isUnique reports whether err is a unique-constraint violation.
func (d dialect) isUnique(err error) bool {
	if err == nil {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// forUpdate is the row-locking suffix of a SELECT inside a transaction.
// SQLite needs none: its transactions take the write lock at BEGIN.
func (d dialect) forUpdate() string {
	if d == postgres {
		return " FOR UPDATE"
	}
	return ""
}

// forUpdateOf locks the rows of one table of a join only.
func (d dialect) forUpdateOf(alias string) string {
	if d == postgres {
		return " FOR UPDATE OF " + alias
	}
	return ""
}
