// Package mail delivers email over SMTP. Every message is first kept in the
// outbox table; without SMTP configured the outbox (and the log) is where
// operators read them.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"regulars"
)

// Outbox keeps every email.
type Outbox interface {
	AddToOutbox(ctx context.Context, m *regulars.Mail) error
	MarkSent(ctx context.Context, id int64, sendErr string) error
	// AfterCommit runs fn after the transaction in ctx commits (at once
	// without one).
	AfterCommit(ctx context.Context, fn func(ctx context.Context))
}

// Mailer keeps and sends emails.
type Mailer struct {
	Outbox Outbox
	From   string
	Log    *slog.Logger
	smtp   *url.URL
}

// New returns a Mailer. smtpURL is "" (keep in the outbox only) or
// smtp://[user:pass@]host:port (STARTTLS when offered) or smtps://host:port.
func New(outbox Outbox, smtpURL, from string, log *slog.Logger) (*Mailer, error) {
	m := &Mailer{Outbox: outbox, From: from, Log: log}
	if smtpURL != "" {
		u, err := url.Parse(smtpURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			return nil, fmt.Errorf("mail: SMTP URL must look like smtp://user:pass@host:587, got %q", smtpURL)
		}
		m.smtp = u
	}
	if m.From == "" {
		m.From = "Regulars <no-reply@localhost>"
	}
	return m, nil
}

// Send keeps msg in the outbox and delivers it over SMTP when configured.
// Inside a transaction the delivery waits for the commit: an email never
// goes out for a change that was rolled back, and a slow mail server never
// holds the transaction open. A delivery failure is recorded on the outbox
// row and logged, not returned: the action that sent the email has happened.
func (m *Mailer) Send(ctx context.Context, msg *regulars.Mail) error {
	msg.To = regulars.NormalizeEmail(msg.To)
	if err := m.Outbox.AddToOutbox(ctx, msg); err != nil {
		return err
	}
	if m.smtp == nil {
		m.Log.Info("email kept in outbox (no SMTP configured)", "to", msg.To, "subject", msg.Subject, "body", msg.Body)
		return nil
	}
	m.Outbox.AfterCommit(ctx, func(ctx context.Context) {
		err := m.deliver(ctx, msg)
		status := ""
		if err != nil {
			status = err.Error()
			m.Log.Error("email delivery failed", "to", msg.To, "subject", msg.Subject, "err", err)
		}
		if err := m.Outbox.MarkSent(context.WithoutCancel(ctx), msg.ID, status); err != nil {
			m.Log.Error("recording an email delivery", "id", msg.ID, "err", err)
		}
	})
	return nil
}

func (m *Mailer) deliver(ctx context.Context, msg *regulars.Mail) error {
	host := m.smtp.Hostname()
	d := net.Dialer{Timeout: 10 * time.Second}
	var conn net.Conn
	var err error
	if m.smtp.Scheme == "smtps" {
		conn, err = tls.DialWithDialer(&d, "tcp", m.smtp.Host, &tls.Config{ServerName: host})
	} else {
		conn, err = d.DialContext(ctx, "tcp", m.smtp.Host)
	}
	if err != nil {
		return err
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && m.smtp.Scheme == "smtp" {
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if u := m.smtp.User; u != nil {
		pw, _ := u.Password()
		if err := c.Auth(smtp.PlainAuth("", u.Username(), pw, host)); err != nil {
			return err
		}
	}
	from := m.From
	if a, err := parseAddr(from); err == nil {
		from = a
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(msg.To); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(format(m.From, msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func parseAddr(s string) (string, error) {
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		j := strings.LastIndexByte(s, '>')
		if j > i {
			return s[i+1 : j], nil
		}
		return "", errors.New("bad address")
	}
	return s, nil
}

// format renders msg as an RFC 5322 message with a quoted-printable body.
func format(from string, msg *regulars.Mail) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\n", from)
	fmt.Fprintf(&b, "To: %s\r\n", msg.To)
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", msg.Subject))
	fmt.Fprintf(&b, "Date: %s\r\n", msg.CreatedAt.Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <outbox-%d-%d@regulars>\r\n", msg.ID, msg.CreatedAt.UnixNano())
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&crlfWriter{&b})
	qp.Write([]byte(msg.Body))
	qp.Close()
	return []byte(b.String())
}

type crlfWriter struct{ b *strings.Builder }

func (w *crlfWriter) Write(p []byte) (int, error) {
	w.b.WriteString(strings.ReplaceAll(strings.ReplaceAll(string(p), "\r\n", "\n"), "\n", "\r\n"))
	return len(p), nil
}
