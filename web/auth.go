package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"regulars"
	"regulars/app"
	"regulars/httpx"
)

const sessionCookie = "rg_session"

// authorize wraps a route's handler with the checks its table entry asks
// for: signed in, the right side (partner or tenant), and the feature level.
func (h *Handler) authorize(rt httpx.Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, err := h.sessionActor(r)
		if err != nil && !app.ErrIsAuth(err) {
			h.serverError(w, r, err)
			return
		}
		if actor != nil {
			r = r.WithContext(context.WithValue(r.Context(), actorKey{}, actor))
		}
		if rt.Side == httpx.Public {
			rt.Handler(w, r)
			return
		}
		if actor == nil {
			if err != nil {
				h.clearSession(w)
			}
			h.toLogin(w, r)
			return
		}
		switch {
		case rt.Side == httpx.Partner && actor.Partner == nil,
			rt.Side == httpx.Tenant && actor.Partner != nil:
			h.notFound(w, r)
			return
		}
		if rt.OwnerOnly && !actor.IsOwner() {
			h.fail(w, r, regulars.Errorf(regulars.EFORBIDDEN, "Only the Account owner can do this."), "", nil)
			return
		}
		if rt.Feature != "" && !actor.Can(rt.Feature, rt.Level) {
			msg := "Your role does not allow this. Ask your account owner for access."
			if actor.Partner != nil && regulars.IsPartnerFeature(rt.Feature) && !actor.Package.IncludesOr(rt.Feature, false) {
				msg = "This feature is not part of your package. See Partnership settings to change it."
			}
			h.fail(w, r, regulars.Errorf(regulars.EFORBIDDEN, "%s", msg), "", nil)
			return
		}
		rt.Handler(w, r)
	})
}

func (h *Handler) sessionActor(r *http.Request) (*app.Actor, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	return h.app.Authenticate(r.Context(), c.Value)
}

func (h *Handler) setSession(w http.ResponseWriter, secret string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", HttpOnly: true, Secure: h.opts.SecureCookies, SameSite: http.SameSiteLaxMode,
		MaxAge: int(h.app.SessionAbsolute.Seconds())})
}

func (h *Handler) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: h.opts.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		h.notFound(w, r)
		return
	}
	if a := actorFrom(r.Context()); a != nil {
		http.Redirect(w, r, base(a), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if a := actorFrom(r.Context()); a != nil {
		http.Redirect(w, r, base(a), http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "login", &Page{Title: "Sign in", Form: &Form{Values: r.URL.Query()}})
}

// safeNext keeps post-sign-in redirects on this site: a path of this site
// only. Browsers drop tabs and newlines from URLs and read a backslash as a
// slash, so "/\t/evil.example" would become "//evil.example": any control
// character, space or backslash is refused.
func safeNext(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r <= ' ' || r == '\\' || r == 0x7f }) {
		return fallback
	}
	if u, err := url.Parse(next); err != nil || u.Scheme != "" || u.Host != "" {
		return fallback
	}
	return next
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	email, password := r.PostFormValue("email"), r.PostFormValue("password")
	res, err := h.app.SignIn(r.Context(), email, password, httpx.ClientIP(r, h.opts.TrustProxy), r.UserAgent())
	if err != nil {
		code := regulars.ErrorCode(err)
		if code == regulars.EUNAUTHORIZED || code == regulars.ETOOMANY {
			status := http.StatusUnauthorized
			if code == regulars.ETOOMANY {
				status = http.StatusTooManyRequests
			}
			h.render(w, r, status, "login", &Page{Title: "Sign in", Form: &Form{Values: r.PostForm, Message: regulars.ErrorMessage(err)}})
			return
		}
		h.fail(w, r, err, "", nil)
		return
	}
	// Signing in again in this browser ends the session it had before.
	if old := actorFrom(r.Context()); old != nil && old.SessionID != 0 {
		if err := h.app.SignOut(r.Context(), old); err != nil {
			h.serverError(w, r, err)
			return
		}
	}
	h.setSession(w, res.Secret)
	next := safeNext(r.PostFormValue("next"), base(res.Actor))
	if (res.Actor.Partner == nil) != strings.HasPrefix(next, "/tenant") && next != "/account" {
		next = base(res.Actor)
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if a := actorFrom(r.Context()); a != nil && a.SessionID != 0 {
		if err := h.app.SignOut(r.Context(), a); err != nil {
			h.serverError(w, r, err)
			return
		}
	}
	h.clearSession(w)
	h.redirect(w, r, "/login", "info", "You are signed out.")
}

func (h *Handler) forgotForm(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "forgot", &Page{Title: "Forgot password"})
}

func (h *Handler) forgot(w http.ResponseWriter, r *http.Request) {
	email := regulars.NormalizeEmail(r.PostFormValue("email"))
	if !regulars.ValidEmail(email) {
		h.fail(w, r, &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"email": "Enter an email address like name@example.com."}}, "forgot", &Page{Title: "Forgot password"})
		return
	}
	// The work (and the email) happens after the answer, so the answer and
	// its timing are the same whether or not the address has an account.
	go func(ctx context.Context) {
		if err := h.app.ForgotPassword(ctx, email); err != nil {
			h.log.Error("forgot password", "err", err)
		}
	}(context.WithoutCancel(r.Context()))
	h.render(w, r, http.StatusOK, "forgot", &Page{Title: "Forgot password", Data: map[string]any{"Sent": true, "Email": email}})
}

func (h *Handler) passwordForm(w http.ResponseWriter, r *http.Request) {
	link, err := h.app.CheckPasswordLink(r.Context(), r.PathValue("token"))
	if err != nil {
		h.render(w, r, http.StatusNotFound, "password", &Page{Title: "Set password", Data: map[string]any{"Invalid": regulars.ErrorMessage(err)}})
		return
	}
	h.render(w, r, http.StatusOK, "password", &Page{Title: "Set your password", Data: map[string]any{"Link": link}})
}

func (h *Handler) setPassword(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	u, err := h.app.UsePasswordLink(r.Context(), token, r.PostFormValue("password"), r.PostFormValue("confirm"))
	if err != nil {
		if regulars.ErrorCode(err) == regulars.EINVALID {
			link, lerr := h.app.CheckPasswordLink(r.Context(), token)
			if lerr == nil {
				h.fail(w, r, err, "password", &Page{Title: "Set your password", Data: map[string]any{"Link": link}})
				return
			}
		}
		h.render(w, r, http.StatusNotFound, "password", &Page{Title: "Set password", Data: map[string]any{"Invalid": regulars.ErrorMessage(err)}})
		return
	}
	h.clearSession(w)
	h.redirect(w, r, "/login?email="+urlQuery(u.Email), "success", "Your password is set. Sign in with it now.")
}

// SessionCookie names the staff session cookie; the realtime endpoint
// signs agents in with it too.
const SessionCookie = sessionCookie
