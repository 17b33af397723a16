package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"regulars"
)

// ChannelInput is what the channel form sends.
type ChannelInput struct {
	Name        string
	Description string
	Welcome     string
	ChatEnabled bool
}

func (in *ChannelInput) validate() error {
	in.Name, in.Description, in.Welcome = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description), strings.TrimSpace(in.Welcome)
	v := regulars.Validation{}
	regulars.CheckName(v, "name", in.Name, 80)
	if utf8.RuneCountInString(in.Description) > 2000 {
		v.Add("description", "Use at most 2000 characters.")
	}
	if utf8.RuneCountInString(in.Welcome) > 1000 {
		v.Add("welcome", "Use at most 1000 characters.")
	}
	return v.Err()
}

// StaffChannels lists the actor's channels.
func (a *App) StaffChannels(ctx context.Context, actor *Actor) ([]*regulars.Channel, error) {
	if err := actor.Require(regulars.FeatureChannels, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.Channels(ctx, actor.PartnerID())
}

// StaffChannel returns one of the actor's channels.
func (a *App) StaffChannel(ctx context.Context, actor *Actor, id int64) (*regulars.Channel, error) {
	if err := actor.Require(regulars.FeatureChannels, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.Channel(ctx, actor.PartnerID(), id)
}

// CreateChannel adds a draft channel; chat is on for new channels unless
// the form switched it off.
func (a *App) CreateChannel(ctx context.Context, actor *Actor, in ChannelInput) (*regulars.Channel, error) {
	if err := actor.Require(regulars.FeatureChannels, regulars.LevelManage); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	c := &regulars.Channel{TenantID: actor.User.TenantID, PartnerID: actor.PartnerID(), Name: in.Name, Description: in.Description, Welcome: in.Welcome,
		ChatEnabled: in.ChatEnabled, Status: regulars.ChannelDraft}
	err := a.DB.InTx(ctx, func(ctx context.Context) error {
		if err := a.CheckLimit(ctx, actor, regulars.LimitChannels, 1); err != nil {
			return err
		}
		return a.DB.CreateChannel(ctx, c)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// UpdateChannel saves a channel's details and chat switch.
func (a *App) UpdateChannel(ctx context.Context, actor *Actor, id int64, in ChannelInput) (*regulars.Channel, error) {
	if err := actor.Require(regulars.FeatureChannels, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	c, err := a.DB.Channel(ctx, actor.PartnerID(), id)
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	c.Name, c.Description, c.Welcome, c.ChatEnabled = in.Name, in.Description, in.Welcome, in.ChatEnabled
	defer a.catalogChanged()
	return c, a.DB.UpdateChannel(ctx, c)
}

// PublishChannel makes a draft channel visible to followers.
func (a *App) PublishChannel(ctx context.Context, actor *Actor, id int64) (*regulars.Channel, error) {
	if err := actor.Require(regulars.FeatureChannels, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	c, err := a.DB.Channel(ctx, actor.PartnerID(), id)
	if err != nil {
		return nil, err
	}
	ok, err := a.DB.SetChannelStatus(ctx, actor.PartnerID(), id, regulars.ChannelDraft, regulars.ChannelActive)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, regulars.Errorf(regulars.ECONFLICT, "%s is already published.", c.Name)
	}
	c.Status = regulars.ChannelActive
	a.catalogChanged()
	return c, nil
}

// MaxImageBytes bounds uploaded logos and engagement images.
const MaxImageBytes = 2 << 20

// imageTypes are the picture formats accepted, by sniffed content type.
var imageTypes = map[string]string{"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}

// SaveImage stores an uploaded picture under the media folder and returns
// its file name. The type is decided from the content, never the name.
func (a *App) SaveImage(data []byte, field string) (string, error) {
	if len(data) == 0 {
		return "", regulars.Validation{field: "Choose a picture file."}.Err()
	}
	if len(data) > MaxImageBytes {
		return "", regulars.Validation{field: "The picture is larger than 2 MB."}.Err()
	}
	ext, ok := imageTypes[http.DetectContentType(data)]
	if !ok {
		return "", regulars.Validation{field: "Use a PNG, JPEG, GIF or WebP picture."}.Err()
	}
	if a.MediaDir == "" {
		return "", regulars.Errorf(regulars.EINTERNAL, "no media folder configured")
	}
	if err := os.MkdirAll(a.MediaDir, 0o750); err != nil {
		return "", err
	}
	b := make([]byte, 12)
	rand.Read(b)
	name := hex.EncodeToString(b) + ext
	if err := os.WriteFile(filepath.Join(a.MediaDir, name), data, 0o640); err != nil {
		return "", err
	}
	return name, nil
}

// MediaPath returns the file of a stored picture, or "" for a name that
// is not one SaveImage could have made.
func (a *App) MediaPath(name string) string {
	if a.MediaDir == "" || name == "" || strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") {
		return ""
	}
	ok := false
	for _, ext := range imageTypes {
		ok = ok || strings.HasSuffix(name, ext)
	}
	if !ok {
		return ""
	}
	return filepath.Join(a.MediaDir, name)
}

// SetChannelLogo stores an uploaded logo for a channel.
func (a *App) SetChannelLogo(ctx context.Context, actor *Actor, id int64, data []byte) (*regulars.Channel, error) {
	if err := actor.Require(regulars.FeatureChannels, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	c, err := a.DB.Channel(ctx, actor.PartnerID(), id)
	if err != nil {
		return nil, err
	}
	name, err := a.SaveImage(bytes.Clone(data), "logo")
	if err != nil {
		return nil, err
	}
	// The logo counts against the partner's storage; the one it replaces
	// gives its space back.
	var oldSize int64
	old := a.MediaPath(c.Logo)
	if fi, err := os.Stat(old); old != "" && err == nil {
		oldSize = fi.Size()
	}
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		if err := a.ReserveStorage(ctx, actor.User.TenantID, actor.PartnerID(), int64(len(data))-oldSize); err != nil {
			return err
		}
		return a.DB.SetChannelLogo(ctx, actor.PartnerID(), id, name)
	})
	if err != nil {
		os.Remove(a.MediaPath(name))
		return nil, err
	}
	if old != "" {
		os.Remove(old)
	}
	c.Logo = name
	a.catalogChanged()
	return c, nil
}
