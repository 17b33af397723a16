package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"regulars"
)

// Sign-in throttling. Failures count per (account, address) pair and per
// address, never per account alone, so nobody can lock someone else out
// from another address.
const (
	throttleWindow     = 15 * time.Minute
	maxFailuresPerPair = 5
	maxFailuresPerIP   = 50
)

var errBadCredentials = regulars.Errorf(regulars.EUNAUTHORIZED, "The email or password is not correct.")

// SignInResult is a fresh session and the cookie secret that names it.
type SignInResult struct {
	Actor  *Actor
	Secret string
}

// SignIn checks credentials and starts a session. Unknown and known emails
// get the same answer and take the same time.
func (a *App) SignIn(ctx context.Context, email, password, ip, userAgent string) (*SignInResult, error) {
	email = regulars.NormalizeEmail(email)
	pairKey, ipKey := "pair:"+email+"|"+ip, "ip:"+ip
	since := a.now().Add(-throttleWindow)
	if n, err := a.DB.LoginFailures(ctx, pairKey, since); err != nil {
		return nil, err
	} else if n >= maxFailuresPerPair {
		return nil, regulars.Errorf(regulars.ETOOMANY, "Too many failed attempts. Wait 15 minutes or reset your password.")
	}
	if n, err := a.DB.LoginFailures(ctx, ipKey, since); err != nil {
		return nil, err
	} else if n >= maxFailuresPerIP {
		return nil, regulars.Errorf(regulars.ETOOMANY, "Too many failed attempts from your network. Wait 15 minutes.")
	}
	u, err := a.DB.UserByEmail(ctx, email)
	if err != nil && regulars.ErrorCode(err) != regulars.ENOTFOUND {
		return nil, err
	}
	hash := a.dummy()
	if u != nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	}
	ok := VerifyPassword(password, hash) && u != nil && u.PasswordHash != ""
	if !ok {
		if err := a.DB.RecordLoginFailure(ctx, pairKey, ipKey); err != nil {
			return nil, err
		}
		return nil, errBadCredentials
	}
	if u.Status == regulars.UserDisabled {
		return nil, regulars.Errorf(regulars.EUNAUTHORIZED, "This account is disabled. Ask your account owner.")
	}
	actor, err := a.actorFor(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if err := a.DB.ClearLoginFailures(ctx, pairKey); err != nil {
		return nil, err
	}
	secret, sess, err := a.newSession(ctx, u.ID, ip, userAgent)
	if err != nil {
		return nil, err
	}
	actor.SessionID = sess.ID
	return &SignInResult{Actor: actor, Secret: secret}, nil
}

func (a *App) newSession(ctx context.Context, userID int64, ip, ua string) (string, *regulars.Session, error) {
	now := a.now()
	secret := NewSecret("")
	if len(ua) > 300 {
		ua = ua[:300]
	}
	s := &regulars.Session{UserID: userID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(a.SessionAbsolute), UserAgent: ua, IP: ip}
	if err := a.DB.CreateSession(ctx, HashSecret(secret), s); err != nil {
		return "", nil, err
	}
	return secret, s, nil
}

// errNoSession is returned for every kind of missing, expired or ended session.
var errNoSession = regulars.Errorf(regulars.EUNAUTHORIZED, "Please sign in.")

// Authenticate resolves a session cookie's secret to its actor, ending the
// session when it is idle or past its absolute expiry.
func (a *App) Authenticate(ctx context.Context, secret string) (*Actor, error) {
	if secret == "" {
		return nil, errNoSession
	}
	d, err := a.DB.SessionActor(ctx, HashSecret(secret))
	if regulars.ErrorCode(err) == regulars.ENOTFOUND {
		return nil, errNoSession
	} else if err != nil {
		return nil, err
	}
	s := d.Session
	now := a.now()
	if now.After(s.ExpiresAt) || now.Sub(s.LastSeenAt) > a.SessionIdle {
		a.DB.DeleteSession(ctx, s.ID)
		return nil, errNoSession
	}
	actor, err := actorFromData(d)
	if code := regulars.ErrorCode(err); code == regulars.EUNAUTHORIZED || code == regulars.ENOTFOUND {
		a.DB.DeleteSession(ctx, s.ID)
		return nil, errNoSession
	} else if err != nil {
		return nil, err
	}
	// Record activity at most once a minute: it keeps a write off most requests.
	if now.Sub(s.LastSeenAt) > time.Minute {
		if err := a.DB.TouchSession(ctx, s.ID, now); err != nil {
			return nil, err
		}
	}
	actor.SessionID = s.ID
	return actor, nil
}

// AuthenticateToken resolves a personal access token (Authorization: Bearer).
func (a *App) AuthenticateToken(ctx context.Context, token string) (*Actor, error) {
	id, userID, lastUsed, err := a.DB.APITokenByHash(ctx, HashSecret(token))
	if regulars.ErrorCode(err) == regulars.ENOTFOUND {
		return nil, regulars.Errorf(regulars.EUNAUTHORIZED, "The access token is invalid or revoked.")
	} else if err != nil {
		return nil, err
	}
	actor, err := a.actorFor(ctx, userID)
	if code := regulars.ErrorCode(err); code == regulars.EUNAUTHORIZED || code == regulars.ENOTFOUND {
		return nil, regulars.Errorf(regulars.EUNAUTHORIZED, "The access token's user is not active.")
	} else if err != nil {
		return nil, err
	}
	actor.TokenID = id
	// Record use at most once a minute: it keeps a write off most calls.
	if a.now().Sub(lastUsed) > time.Minute {
		if err := a.DB.TouchAPIToken(ctx, id); err != nil {
			return nil, err
		}
	}
	return actor, nil
}

// SignOut ends the actor's session.
func (a *App) SignOut(ctx context.Context, actor *Actor) error {
	if err := a.DB.DeleteSession(ctx, actor.SessionID); err != nil {
		return err
	}
	a.signInsEnded(ctx, UserTopic(actor.User.ID))
	return nil
}

// ForgotPassword emails a reset link when the address belongs to an active
// or invited user. The caller answers the same either way.
func (a *App) ForgotPassword(ctx context.Context, email string) error {
	u, err := a.DB.UserByEmail(ctx, email)
	if regulars.ErrorCode(err) == regulars.ENOTFOUND {
		HashPassword("timing", a.Password) // same work as the found path
		return nil
	} else if err != nil {
		return err
	}
	if u.Status == regulars.UserDisabled {
		return nil
	}
	purpose, subject := regulars.TokenResetPassword, "Reset your Regulars password"
	ttl := a.ResetTTL
	if u.Status == regulars.UserInvited {
		purpose, ttl, subject = regulars.TokenSetPassword, a.InviteTTL, "Set your Regulars password"
	}
	secret := NewSecret("")
	if err := a.DB.CreateUserToken(ctx, u.ID, purpose, HashSecret(secret), ttl); err != nil {
		return err
	}
	body := fmt.Sprintf("Hello %s,\n\nSomeone (hopefully you) asked to reset the password of your Regulars account.\nOpen this link within %s to choose a new password:\n\n%s/password/%s\n\nIf you did not ask for this, ignore this email: your password stays as it is.\n",
		u.Name, humanDuration(ttl), a.BaseURL, secret)
	return a.Mail.Send(ctx, &regulars.Mail{TenantID: u.TenantID, To: u.Email, Subject: subject, Body: body})
}

// PasswordLink describes a valid set-password or reset link.
type PasswordLink struct {
	User    *regulars.User
	Purpose string
}

// CheckPasswordLink validates a link without using it.
func (a *App) CheckPasswordLink(ctx context.Context, secret string) (*PasswordLink, error) {
	userID, purpose, err := a.DB.PeekUserToken(ctx, HashSecret(secret))
	if err != nil {
		return nil, err
	}
	u, err := a.DB.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	if u.Status == regulars.UserDisabled {
		return nil, regulars.Errorf(regulars.ENOTFOUND, "This account is disabled.")
	}
	return &PasswordLink{User: u, Purpose: purpose}, nil
}

// UsePasswordLink sets a password through a single-use link. The link is
// spent only when the password is acceptable; every session of the user ends.
func (a *App) UsePasswordLink(ctx context.Context, secret, password, confirm string) (*regulars.User, error) {
	if _, err := a.CheckPasswordLink(ctx, secret); err != nil {
		return nil, err
	}
	if err := checkNewPassword(password, confirm); err != nil {
		return nil, err
	}
	hash := HashPassword(password, a.Password)
	var u *regulars.User
	err := a.DB.InTx(ctx, func(ctx context.Context) error {
		userID, _, err := a.DB.UseUserToken(ctx, HashSecret(secret))
		if err != nil {
			return err
		}
		if err := a.DB.SetPassword(ctx, userID, hash, 0); err != nil {
			return err
		}
		u, err = a.DB.User(ctx, userID)
		return err
	})
	if err != nil {
		return nil, err
	}
	a.signInsEnded(ctx, UserTopic(u.ID))
	return u, nil
}

func checkNewPassword(password, confirm string) error {
	v := regulars.Validation{}
	if msg := regulars.CheckPassword(password); msg != "" {
		v.Add("password", msg)
	}
	if password != confirm {
		v.Add("confirm", "The two passwords do not match.")
	}
	return v.Err()
}

func humanDuration(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return fmt.Sprintf("%d hours", int(d.Hours()))
}

// ErrIsAuth reports whether err means "sign in first".
func ErrIsAuth(err error) bool {
	var e *regulars.Error
	return errors.As(err, &e) && e.Code == regulars.EUNAUTHORIZED
}
