package app

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"regulars"
	"regulars/files"
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
func (a *App) SaveImage(ctx context.Context, data []byte, field string) (string, error) {
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
	if a.Media == nil {
		return "", regulars.Errorf(regulars.EINTERNAL, "no media store configured")
	}
	b := make([]byte, 12)
	rand.Read(b)
	name := hex.EncodeToString(b) + ext
	if _, err := a.Media.Put(ctx, name, bytes.NewReader(data)); err != nil {
		return "", err
	}
	return name, nil
}

// mediaName reports whether name is one SaveImage could have made.
func mediaName(name string) bool {
	if name == "" || strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") {
		return false
	}
	for _, ext := range imageTypes {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// OpenMedia opens a stored picture; a name SaveImage could not have made
// is not found.
func (a *App) OpenMedia(ctx context.Context, name string) (files.File, error) {
	if a.Media == nil || !mediaName(name) {
		return nil, regulars.ErrNotFound("picture")
	}
	return a.Media.Open(ctx, name)
}

// mediaSize is the size of a stored picture, 0 when there is none.
func (a *App) mediaSize(ctx context.Context, name string) int64 {
	f, err := a.OpenMedia(ctx, name)
	if err != nil {
		return 0
	}
	defer f.Close()
	n, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0
	}
	return n
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
	name, err := a.SaveImage(ctx, bytes.Clone(data), "logo")
	if err != nil {
		return nil, err
	}
	// The logo counts against the partner's storage; the one it replaces
	// gives its space back.
	oldSize := a.mediaSize(ctx, c.Logo)
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		if err := a.ReserveStorage(ctx, actor.User.TenantID, actor.PartnerID(), int64(len(data))-oldSize); err != nil {
			return err
		}
		return a.DB.SetChannelLogo(ctx, actor.PartnerID(), id, name)
	})
	if err != nil {
		a.deleteMedia(name)
		return nil, err
	}
	if mediaName(c.Logo) {
		a.deleteMedia(c.Logo)
	}
	c.Logo = name
	a.catalogChanged()
	return c, nil
}

// deleteMedia removes a stored picture nothing refers to any more.
func (a *App) deleteMedia(name string) {
	if err := a.Media.Delete(context.Background(), name); err != nil {
		a.Log.Warn("deleting a picture", "name", name, "err", err)
	}
}
