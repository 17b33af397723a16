package testenv

import (
	"net/smtp"
	"strings"
	"testing"
	"time"
)

func send(t *testing.T, s *SMTP, from string, to []string, msg string) {
	t.Helper()
	auth := smtp.PlainAuth("", "user", "secret", "127.0.0.1")
	if err := smtp.SendMail(s.Addr(), auth, from, to, []byte(strings.ReplaceAll(msg, "\n", "\r\n"))); err != nil {
		t.Fatalf("sending: %v", err)
	}
}

func TestSMTPServer(t *testing.T) {
	t.Parallel()
	s := SMTPServer(t)
	if !strings.HasPrefix(s.URL(), "smtp://127.0.0.1:") {
		t.Errorf("URL = %q", s.URL())
	}
	send(t, s, "app@example.com", []string{"Ann@Example.com", "bob@example.com"}, `From: Regulars <app@example.com>
To: ann@example.com
Subject: =?UTF-8?Q?Caf=C3=A9_invitation?=
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Join us at the caf=C3=A9: https://example.com/join?token=3Dabc&x=3D1 and a very lo=
ng line.
--b1
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

PHA+Sm9pbiB1czwvcD4=
--b1--
`)
	m := s.WaitFor(t, "ann@example.com", 5*time.Second)
	if m.From != "app@example.com" {
		t.Errorf("From = %q", m.From)
	}
	if len(m.To) != 2 || m.To[1] != "bob@example.com" {
		t.Errorf("To = %q", m.To)
	}
	if m.AuthUser != "user" {
		t.Errorf("AuthUser = %q", m.AuthUser)
	}
	if m.Subject != "Café invitation" {
		t.Errorf("Subject = %q", m.Subject)
	}
	if want := "Join us at the café: https://example.com/join?token=abc&x=1 and a very long line."; m.Body != want {
		t.Errorf("Body = %q, want %q", m.Body, want)
	}
	if m.HTML != "<p>Join us</p>" {
		t.Errorf("HTML = %q", m.HTML)
	}
	if !strings.Contains(string(m.Raw), "boundary=\"b1\"") {
		t.Errorf("Raw = %q", m.Raw)
	}
	if got := len(s.Messages()); got != 1 {
		t.Errorf("%d messages, want 1", got)
	}
}

func TestSMTPWaitFor(t *testing.T) {
	t.Parallel()
	s := SMTPServer(t)
	sent := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		for _, subject := range []string{"first", "second"} {
			if err := smtp.SendMail(s.Addr(), nil, "app@example.com", []string{"carl@example.com"},
				[]byte("Subject: "+subject+"\r\n\r\nplain text\r\n")); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	// The client ends its session after the server has the message, so
	// wait for it before the cleanup closes the server.
	defer func() {
		if err := <-sent; err != nil {
			t.Errorf("sending: %v", err)
		}
	}()
	for _, want := range []string{"first", "second"} {
		m := s.WaitFor(t, "Carl <carl@example.com>", 5*time.Second)
		if m.Subject != want || m.Body != "plain text\r\n" {
			t.Errorf("got %q %q, want subject %q", m.Subject, m.Body, want)
		}
	}
}
