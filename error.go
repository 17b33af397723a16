// Package regulars holds the domain of Regulars: the types, error codes and
// rules every layer shares. It imports no driver, no net/http and no
// database/sql; storage, web, API, realtime and mail live in sibling packages.
package regulars

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error codes. Each surface maps them to a response in exactly one place.
const (
	ENOTFOUND     = "not_found"     // missing, or belongs to someone else
	EINVALID      = "invalid"       // bad input; Fields says where
	ECONFLICT     = "conflict"      // state does not allow it (already decided, in use, owned by another)
	EFORBIDDEN    = "forbidden"     // signed in, but the role or package does not allow it
	EUNAUTHORIZED = "unauthorized"  // not signed in
	ETOOMANY      = "too_many"      // throttled
	EINTERNAL     = "internal"      // a bug or an outage
	ELIMIT        = "limit_reached" // package or storage limit
)

// Error is an error with a code, a message for people and, for invalid
// input, a message per field.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
	// Detail carries structured data a surface may show (e.g. the users that
	// hold a role, the owner of a conversation).
	Detail any
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(e.Message)
	for _, k := range keys {
		fmt.Fprintf(&b, "; %s: %s", k, e.Fields[k])
	}
	return b.String()
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrNotFound is the answer for a missing object and for another partner's
// object alike.
func ErrNotFound(what string) *Error {
	if what != "" {
		what = strings.ToUpper(what[:1]) + what[1:]
	}
	return &Error{Code: ENOTFOUND, Message: what + " not found."}
}

// ErrorCode returns the code of err, EINTERNAL for errors without one and ""
// for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	}
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the people-facing message of err; internal errors get a
// generic message so nothing leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side. Please try again."
}

// FieldErrors returns the per-field messages of err, if any.
func FieldErrors(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// Validation collects field errors before anything is written.
type Validation map[string]string

// Add records msg for field unless the field already has a message.
func (v Validation) Add(field, msg string) {
	if _, ok := v[field]; !ok {
		v[field] = msg
	}
}

// Check adds msg for field when ok is false.
func (v Validation) Check(ok bool, field, msg string) {
	if !ok {
		v.Add(field, msg)
	}
}

// Err returns nil when nothing was added, else an EINVALID *Error.
func (v Validation) Err() error {
	if len(v) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string(v)}
}
