package regulars

import (
	_ "embed"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MinPasswordLength and MaxPasswordLength bound passwords. Anything up to the
// maximum is used whole: nothing is truncated.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 256
)

//go:embed common-passwords.txt
var commonPasswordsText string

var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = true
		}
	}
	return m
}()

// CheckPassword returns a message for a weak password, or "".
func CheckPassword(pw string) string {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLength:
		return "Use at least 8 characters."
	case len(pw) > MaxPasswordLength:
		return "Use at most 256 characters."
	case commonPasswords[strings.ToLower(pw)]:
		return "This password is among the most common ones; choose another."
	}
	return ""
}

// NormalizeEmail lower-cases and trims an address.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidEmail reports whether s is a plain address like name@example.com.
func ValidEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " <>\"") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.HasSuffix(s, ".")
}

var phoneRE = regexp.MustCompile(`^\+?[0-9][0-9 ().-]{5,22}[0-9]$`)

// NormalizePhone strips spaces around a phone number.
func NormalizePhone(s string) string { return strings.TrimSpace(s) }

// ValidPhone reports whether s looks like a phone number (digits, spaces,
// dashes, dots and brackets, optional leading +, 7 to 15 digits).
func ValidPhone(s string) bool {
	if !phoneRE.MatchString(s) {
		return false
	}
	digits := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	return digits >= 7 && digits <= 15
}

// CheckName validates a required display name of at most max characters.
func CheckName(v Validation, field, value string, max int) {
	switch n := utf8.RuneCountInString(strings.TrimSpace(value)); {
	case n == 0:
		v.Add(field, "This field is required.")
	case n > max:
		v.Add(field, "Use at most "+strconv.Itoa(max)+" characters.")
	}
}
