package app

import (
	"context"
	"strings"

	"regulars"
)

// UpdateProfile changes the actor's own name and phone.
func (a *App) UpdateProfile(ctx context.Context, actor *Actor, name, phone string) error {
	name, phone = strings.TrimSpace(name), regulars.NormalizePhone(phone)
	v := regulars.Validation{}
	regulars.CheckName(v, "name", name, 120)
	if phone != "" && !regulars.ValidPhone(phone) {
		v.Add("phone", "Enter a phone number with 7 to 15 digits, e.g. +44 20 7946 0958.")
	}
	if err := v.Err(); err != nil {
		return err
	}
	u := *actor.User
	u.Name, u.Phone = name, phone
	if err := a.DB.UpdateUser(ctx, &u); err != nil {
		return err
	}
	*actor.User = u
	return nil
}

// ChangeOwnPassword checks the current password, sets the new one and ends
// the actor's other sessions.
func (a *App) ChangeOwnPassword(ctx context.Context, actor *Actor, current, password, confirm string) error {
	if !VerifyPassword(current, actor.User.PasswordHash) {
		return &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"current": "Your current password is not correct."}}
	}
	if err := checkNewPassword(password, confirm); err != nil {
		return err
	}
	if err := a.DB.SetPassword(ctx, actor.User.ID, HashPassword(password, a.Password), actor.SessionID); err != nil {
		return err
	}
	a.signInsEnded(ctx, UserTopic(actor.User.ID))
	return nil
}

// SignOutOthers ends every session of the actor but the current one.
func (a *App) SignOutOthers(ctx context.Context, actor *Actor) error {
	if err := a.DB.DeleteUserSessions(ctx, actor.User.ID, actor.SessionID); err != nil {
		return err
	}
	a.signInsEnded(ctx, UserTopic(actor.User.ID))
	return nil
}

// DeleteAPIToken revokes one of the actor's personal access tokens.
func (a *App) DeleteAPIToken(ctx context.Context, actor *Actor, id int64) error {
	if err := a.DB.DeleteAPIToken(ctx, actor.User.ID, id); err != nil {
		return err
	}
	a.signInsEnded(ctx, UserTopic(actor.User.ID))
	return nil
}

// CreateAPIToken makes a personal access token; the secret is shown once.
func (a *App) CreateAPIToken(ctx context.Context, actor *Actor, name string) (*regulars.APIToken, string, error) {
	name = strings.TrimSpace(name)
	v := regulars.Validation{}
	regulars.CheckName(v, "name", name, 60)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	secret := NewSecret("rgs_")
	t := &regulars.APIToken{UserID: actor.User.ID, Name: name, Prefix: secret[:8]}
	if err := a.DB.CreateAPIToken(ctx, t, HashSecret(secret)); err != nil {
		return nil, "", err
	}
	return t, secret, nil
}

// SendSupportMessage stores a message to the tenant and emails the tenant's
// support address when it has one.
func (a *App) SendSupportMessage(ctx context.Context, actor *Actor, subject, body string) error {
	if actor.Partner == nil {
		return regulars.Errorf(regulars.EFORBIDDEN, "Only partner staff write to support.")
	}
	subject, body = strings.TrimSpace(subject), strings.TrimSpace(body)
	v := regulars.Validation{}
	regulars.CheckName(v, "subject", subject, 200)
	regulars.CheckName(v, "body", body, 5000)
	if err := v.Err(); err != nil {
		return err
	}
	m := &regulars.SupportMessage{TenantID: actor.User.TenantID, PartnerID: actor.PartnerID(), UserID: actor.User.ID, Subject: subject, Body: body}
	return a.DB.InTx(ctx, func(ctx context.Context) error {
		if err := a.DB.AddSupportMessage(ctx, m); err != nil {
			return err
		}
		if actor.Tenant.SupportEmail == "" {
			return nil
		}
		return a.Mail.Send(ctx, &regulars.Mail{TenantID: actor.User.TenantID, To: actor.Tenant.SupportEmail,
			Subject: "[" + actor.Partner.BrandName + "] " + subject,
			Body:    body + "\n\n— " + actor.User.Name + " <" + actor.User.Email + ">, " + actor.Partner.BrandName + "\n"})
	})
}
