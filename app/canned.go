package app

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"regulars"
)

// Canned responses: a partner's categories and responses, managed in
// settings, plus the tenant's defaults, which partners use but do not edit
// and tenant staff manage in the console (the same functions: tenant staff
// have no partner, and partner id 0 is the defaults).

// CannedFeature is what manages the actor's canned responses: the
// partner's feature, or the tenant console's for the defaults.
func CannedFeature(actor *Actor) regulars.Feature {
	if actor.Partner == nil {
		return regulars.FeatureTenantCanned
	}
	return regulars.FeatureCanned
}

// CannedResponses lists the categories an agent can insert from, with their
// responses: the partner's own, then the tenant's defaults. Anyone who
// reads chat or canned responses may list them.
func (a *App) CannedResponses(ctx context.Context, actor *Actor) ([]*regulars.CannedCategory, error) {
	if !actor.Can(CannedFeature(actor), regulars.LevelView) && !actor.Can(regulars.FeatureChat, regulars.LevelView) {
		return nil, regulars.Errorf(regulars.EFORBIDDEN, "Your role does not allow this.")
	}
	return a.DB.CannedCategories(ctx, actor.User.TenantID, actor.PartnerID())
}

// CannedInput is what the response form sends.
type CannedInput struct {
	CategoryID int64
	Title      string
	Text       string
}

func checkCategoryName(name string) (string, error) {
	name = strings.TrimSpace(name)
	v := regulars.Validation{}
	regulars.CheckName(v, "name", name, 60)
	return name, v.Err()
}

// CreateCannedCategory adds a category of the actor's partner.
func (a *App) CreateCannedCategory(ctx context.Context, actor *Actor, name string) (*regulars.CannedCategory, error) {
	if err := actor.Require(CannedFeature(actor), regulars.LevelManage); err != nil {
		return nil, err
	}
	name, err := checkCategoryName(name)
	if err != nil {
		return nil, err
	}
	c := &regulars.CannedCategory{TenantID: actor.User.TenantID, PartnerID: actor.PartnerID(), Name: name}
	if err := a.DB.CreateCannedCategory(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// CannedCategory returns one of the partner's categories.
func (a *App) CannedCategory(ctx context.Context, actor *Actor, id int64) (*regulars.CannedCategory, error) {
	if err := actor.Require(CannedFeature(actor), regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.CannedCategory(ctx, actor.User.TenantID, actor.PartnerID(), id)
}

// RenameCannedCategory renames one of the partner's categories.
func (a *App) RenameCannedCategory(ctx context.Context, actor *Actor, id int64, name string) (*regulars.CannedCategory, error) {
	if err := actor.Require(CannedFeature(actor), regulars.LevelUpdate); err != nil {
		return nil, err
	}
	c, err := a.DB.CannedCategory(ctx, actor.User.TenantID, actor.PartnerID(), id)
	if err != nil {
		return nil, err
	}
	if c.Name, err = checkCategoryName(name); err != nil {
		return nil, err
	}
	return c, a.DB.RenameCannedCategory(ctx, c)
}

// DeleteCannedCategory deletes an empty category of the partner.
func (a *App) DeleteCannedCategory(ctx context.Context, actor *Actor, id int64) error {
	if err := actor.Require(CannedFeature(actor), regulars.LevelManage); err != nil {
		return err
	}
	c, err := a.DB.CannedCategory(ctx, actor.User.TenantID, actor.PartnerID(), id)
	if err != nil {
		return err
	}
	return a.DB.DeleteCannedCategory(ctx, c)
}

func (a *App) checkCanned(ctx context.Context, actor *Actor, in *CannedInput) error {
	in.Title, in.Text = strings.TrimSpace(in.Title), strings.TrimSpace(in.Text)
	v := regulars.Validation{}
	regulars.CheckName(v, "title", in.Title, 80)
	switch n := utf8.RuneCountInString(in.Text); {
	case n == 0:
		v.Add("text", "This field is required.")
	case n > regulars.MaxChatText:
		v.Add("text", fmt.Sprintf("Use at most %d characters.", regulars.MaxChatText))
	}
	if in.CategoryID == 0 {
		v.Add("category_id", "Choose a category.")
	} else if _, err := a.DB.CannedCategory(ctx, actor.User.TenantID, actor.PartnerID(), in.CategoryID); err != nil {
		if regulars.ErrorCode(err) != regulars.ENOTFOUND {
			return err
		}
		v.Add("category_id", "Choose one of your categories.")
	}
	return v.Err()
}

// CreateCanned adds a response to one of the partner's categories.
func (a *App) CreateCanned(ctx context.Context, actor *Actor, in CannedInput) (*regulars.CannedResponse, error) {
	if err := actor.Require(CannedFeature(actor), regulars.LevelManage); err != nil {
		return nil, err
	}
	if err := a.checkCanned(ctx, actor, &in); err != nil {
		return nil, err
	}
	c := &regulars.CannedResponse{TenantID: actor.User.TenantID, PartnerID: actor.PartnerID(), CategoryID: in.CategoryID, Title: in.Title, Text: in.Text}
	if err := a.DB.CreateCanned(ctx, c); err != nil {
		return nil, err
	}
	return c, nil
}

// Canned returns one of the partner's responses.
func (a *App) Canned(ctx context.Context, actor *Actor, id int64) (*regulars.CannedResponse, error) {
	if err := actor.Require(CannedFeature(actor), regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.Canned(ctx, actor.User.TenantID, actor.PartnerID(), id)
}

// UpdateCanned changes one of the partner's responses.
func (a *App) UpdateCanned(ctx context.Context, actor *Actor, id int64, in CannedInput) (*regulars.CannedResponse, error) {
	if err := actor.Require(CannedFeature(actor), regulars.LevelUpdate); err != nil {
		return nil, err
	}
	c, err := a.DB.Canned(ctx, actor.User.TenantID, actor.PartnerID(), id)
	if err != nil {
		return nil, err
	}
	if err := a.checkCanned(ctx, actor, &in); err != nil {
		return nil, err
	}
	c.CategoryID, c.Title, c.Text = in.CategoryID, in.Title, in.Text
	return c, a.DB.UpdateCanned(ctx, c)
}

// DeleteCanned deletes one of the partner's responses.
func (a *App) DeleteCanned(ctx context.Context, actor *Actor, id int64) error {
	if err := actor.Require(CannedFeature(actor), regulars.LevelManage); err != nil {
		return err
	}
	c, err := a.DB.Canned(ctx, actor.User.TenantID, actor.PartnerID(), id)
	if err != nil {
		return err
	}
	return a.DB.DeleteCanned(ctx, c)
}
