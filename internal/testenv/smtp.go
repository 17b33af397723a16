package testenv

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mail is a message that the test SMTP server received.
type Mail struct {
	// From is the envelope sender (MAIL FROM).
	From string
	// To holds the envelope recipients (RCPT TO), which include Bcc.
	To []string
	// AuthUser is the user name of AUTH PLAIN, or "" without AUTH.
	AuthUser string

	// Header is the parsed header of the message. Subject is decoded.
	Header  mail.Header
	Subject string
	// Body is the decoded text of the message: the text/plain part of a
	// multipart message, with quoted-printable and base64 undone.
	Body string
	// HTML is the decoded text/html part, or "" when there is none.
	HTML string
	// Raw is the message as it came over the wire.
	Raw []byte
}

// SMTP is an SMTP server for one test. It accepts every message, with or
// without AUTH PLAIN, and keeps it in memory.
type SMTP struct {
	addr   string
	server *smtp.Server

	mu       sync.Mutex
	messages []Mail
	taken    []bool        // taken[i] is true when WaitFor returned messages[i]
	arrived  chan struct{} // closed and replaced when a message arrives
}

// SMTPServer starts an SMTP server on 127.0.0.1 with a free port. A cleanup
// of the test closes it.
func SMTPServer(t testing.TB) *SMTP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: listening for SMTP: %v", err)
	}
	s := &SMTP{addr: l.Addr().String(), arrived: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &smtpSession{server: s}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.EnableSMTPUTF8 = true
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(io.Discard, "", 0)
	s.server = srv
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return s
}

// URL returns the address of the server, in the form smtp://127.0.0.1:PORT.
func (s *SMTP) URL() string { return "smtp://" + s.addr }

// Addr returns the address of the server, in the form 127.0.0.1:PORT.
func (s *SMTP) Addr() string { return s.addr }

// Messages returns the messages that the server received, in the order of
// arrival.
func (s *SMTP) Messages() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.messages...)
}

// WaitFor waits until a message to the address to arrives, and returns it.
// The address is compared with the envelope recipients, without regard to
// case. Each message is returned once: a second WaitFor for the same address
// waits for the next message to it. WaitFor returns messages that arrived
// before the call too. It fails the test after timeout.
func (s *SMTP) WaitFor(t testing.TB, to string, timeout time.Duration) Mail {
	t.Helper()
	want := normalizeAddress(to)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		for i, m := range s.messages {
			if s.taken[i] {
				continue
			}
			for _, rcpt := range m.To {
				if normalizeAddress(rcpt) == want {
					s.taken[i] = true
					s.mu.Unlock()
					return m
				}
			}
		}
		arrived := s.arrived
		s.mu.Unlock()

		select {
		case <-arrived:
		case <-deadline.C:
			t.Fatalf("testenv: no mail to %s within %v; received:%s", to, timeout, s.summary())
			return Mail{}
		}
	}
}

// summary lists the messages for an error message.
func (s *SMTP) summary() string {
	var b strings.Builder
	for _, m := range s.Messages() {
		fmt.Fprintf(&b, "\n\tto %s: %q", strings.Join(m.To, ", "), m.Subject)
	}
	if b.Len() == 0 {
		return " nothing"
	}
	return b.String()
}

func (s *SMTP) add(m Mail) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	s.taken = append(s.taken, false)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

// normalizeAddress returns the bare address of a, in lower case.
func normalizeAddress(a string) string {
	a = strings.TrimSpace(a)
	if addr, err := mail.ParseAddress(a); err == nil {
		a = addr.Address
	}
	return strings.ToLower(strings.Trim(a, "<>"))
}

// smtpSession is the state of one SMTP connection.
type smtpSession struct {
	server *SMTP
	user   string
	from   string
	to     []string
}

var _ smtp.AuthSession = (*smtpSession)(nil)

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, _ string) error {
		s.user = username
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := parseMail(raw)
	m.From, m.To, m.AuthUser = s.from, s.to, s.user
	s.server.add(m)
	return nil
}

func (s *smtpSession) Reset() {
	s.from, s.to = "", nil
}

func (s *smtpSession) Logout() error { return nil }

// parseMail decodes the header and the text of a message. A part that it
// cannot decode stays as it is, so that the test still sees it.
func parseMail(raw []byte) Mail {
	m := Mail{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.Body = string(raw)
		return m
	}
	m.Header = msg.Header
	var dec mime.WordDecoder
	m.Subject = msg.Header.Get("Subject")
	if s, err := dec.DecodeHeader(m.Subject); err == nil {
		m.Subject = s
	}
	text, html := decodePart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
	m.Body, m.HTML = text, html
	return m
}

// decodePart returns the first text/plain and the first text/html text of a
// part, which can be multipart.
func decodePart(contentType, encoding string, body io.Reader, depth int) (text, html string) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") && depth < 10 {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				break
			}
			t, h := decodePart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
			if text == "" {
				text = t
			}
			if html == "" {
				html = h
			}
		}
		return text, html
	}
	b, err := io.ReadAll(transferDecoder(encoding, body))
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return "", ""
	}
	switch mediaType {
	case "text/plain":
		return string(b), ""
	case "text/html":
		return "", string(b)
	}
	return "", ""
}

// transferDecoder undoes a Content-Transfer-Encoding.
func transferDecoder(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		// The decoder skips the line breaks of base64 text.
		return base64.NewDecoder(base64.StdEncoding, r)
	}
	return r
}
