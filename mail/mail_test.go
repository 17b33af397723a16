package mail_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"regulars"
	"regulars/internal/testenv"
	"regulars/mail"
	"regulars/store"
)

// outbox returns the newest outbox row to an address.
func outbox(t *testing.T, db *store.DB, to string) *regulars.Mail {
	t.Helper()
	return testenv.LastMailTo(t, db, to)
}

func TestMailerDeliversOverSMTPAndKeepsTheMail(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		smtp := testenv.SMTPServer(t)
		m, err := mail.New(db, smtp.URL(), "Regulars <no-reply@regulars.test>", testenv.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		long := "Open this link: http://regulars.test/password/" + strings.Repeat("x", 120) + " today."
		body := "Hello Zoë,\n\n" + long + "\nA = sign, a café ☕ and trailing spaces   \n"
		if err := m.Send(t.Context(), &regulars.Mail{To: " Zoe@Alpha.Example ", Subject: "Grüße aus dem Café", Body: body}); err != nil {
			t.Fatal(err)
		}

		got := smtp.WaitFor(t, "zoe@alpha.example", 5*time.Second)
		if got.From != "no-reply@regulars.test" || len(got.To) != 1 || got.To[0] != "zoe@alpha.example" {
			t.Errorf("envelope from %q to %v", got.From, got.To)
		}
		if got.Subject != "Grüße aus dem Café" {
			t.Errorf("subject %q", got.Subject)
		}
		if b := strings.ReplaceAll(got.Body, "\r\n", "\n"); b != body {
			t.Errorf("body arrived as\n%q\nwant\n%q", b, body)
		}
		if got.Header.Get("From") != "Regulars <no-reply@regulars.test>" || got.Header.Get("Date") == "" || got.Header.Get("Message-Id") == "" {
			t.Errorf("headers %v", got.Header)
		}
		kept := outbox(t, db, "zoe@alpha.example")
		if kept.SentAt.IsZero() || kept.Error != "" || kept.Body != body {
			t.Errorf("outbox row: sent %v, error %q", kept.SentAt, kept.Error)
		}
	})
}

func TestMailerAuthenticates(t *testing.T) {
	t.Parallel()
	db := testenv.OpenSQLite(t)
	smtp := testenv.SMTPServer(t)
	m, err := mail.New(db, "smtp://mailer:s3cret@"+smtp.Addr(), "no-reply@regulars.test", testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(t.Context(), &regulars.Mail{To: "bea@alpha.example", Subject: "Hi", Body: "Hi"}); err != nil {
		t.Fatal(err)
	}
	if got := smtp.WaitFor(t, "bea@alpha.example", 5*time.Second); got.AuthUser != "mailer" {
		t.Errorf("AUTH user %q, want mailer", got.AuthUser)
	}
}

func TestMailerSubjectCannotAddHeaders(t *testing.T) {
	t.Parallel()
	db := testenv.OpenSQLite(t)
	smtp := testenv.SMTPServer(t)
	m, err := mail.New(db, smtp.URL(), "no-reply@regulars.test", testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	// Support subjects come from partner staff.
	subject := "[Alpha] Help\r\nBcc: evil@example.com\r\n\r\nforged body"
	if err := m.Send(t.Context(), &regulars.Mail{To: "support@tenant.example", Subject: subject, Body: "the real body"}); err != nil {
		t.Fatal(err)
	}
	got := smtp.WaitFor(t, "support@tenant.example", 5*time.Second)
	if got.Header.Get("Bcc") != "" || len(got.To) != 1 || !strings.HasPrefix(got.Body, "the real body") {
		t.Errorf("a subject added headers: Bcc %q, recipients %v, body %q", got.Header.Get("Bcc"), got.To, got.Body)
	}
}

func TestMailerKeepsTheMailWhenDeliveryFails(t *testing.T) {
	t.Parallel()
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		// A port with nobody listening.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		m, err := mail.New(db, "smtp://"+addr, "no-reply@regulars.test", testenv.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		// The action that sends the email has happened: a failed delivery
		// is recorded, not returned.
		if err := m.Send(t.Context(), &regulars.Mail{To: "bea@alpha.example", Subject: "Invitation", Body: "link"}); err != nil {
			t.Fatalf("Send returned %v", err)
		}
		kept := outbox(t, db, "bea@alpha.example")
		if kept.Error == "" || !kept.SentAt.IsZero() {
			t.Errorf("outbox row after a failed delivery: sent %v, error %q", kept.SentAt, kept.Error)
		}
	})
}

func TestMailerWithoutSMTPKeepsMailInTheOutbox(t *testing.T) {
	t.Parallel()
	db := testenv.OpenSQLite(t)
	m, err := mail.New(db, "", "", testenv.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(t.Context(), &regulars.Mail{To: "bea@alpha.example", Subject: "Invitation", Body: "link"}); err != nil {
		t.Fatal(err)
	}
	if kept := outbox(t, db, "bea@alpha.example"); kept.Body != "link" || kept.Error != "" || !kept.SentAt.IsZero() {
		t.Errorf("outbox row %+v", kept)
	}
}

func TestMailerRefusesAMalformedSMTPURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"mail.example.com:25", "http://mail.example.com", "smtp://"} {
		if _, err := mail.New(nil, u, "", testenv.Logger(t)); err == nil {
			t.Errorf("SMTP URL %q accepted", u)
		}
	}
}
