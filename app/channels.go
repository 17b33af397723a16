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
	switched := c.ChatEnabled != in.ChatEnabled
	c.Name, c.Description, c.Welcome, c.ChatEnabled = in.Name, in.Description, in.Welcome, in.ChatEnabled
	defer a.catalogChanged()
	if err := a.DB.UpdateChannel(ctx, c); err != nil {
		return nil, err
	}
	if switched && c.Status == regulars.ChannelActive {
		a.publishChannel(ctx, c, 0, false)
	}
	return c, nil
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

// checkImage returns the file extension of an uploaded picture, or what is
// wrong with it. The type is decided from the content, never the name.
func checkImage(data []byte) (ext, problem string) {
	if len(data) == 0 {
		return "", "Choose a picture file."
	}
	if len(data) > MaxImageBytes {
		return "", "The picture is larger than 2 MB."
	}
	ext, ok := imageTypes[http.DetectContentType(data)]
	if !ok {
		return "", "Use a PNG, JPEG, GIF or WebP picture."
	}
	return ext, ""
}

// SaveImage stores an uploaded picture under the media folder and returns
// its file name.
func (a *App) SaveImage(ctx context.Context, data []byte, field string) (string, error) {
	ext, problem := checkImage(data)
	if problem != "" {
		return "", regulars.Validation{field: problem}.Err()
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

// replaceImage stores an uploaded picture that takes the place of old
// (none when ""), and runs write with its name in one transaction with
// reserving its storage, less the old picture's: the partner's storage
// counts only pictures in use. When that fails the new picture is removed
// again; when it succeeds, the old one.
//
// current reads the picture in place now (nil for an object not stored
// yet). It runs under the partner's lock: when another replacement landed
// since old was read, this one is refused rather than crediting the old
// picture's size back a second time.
func (a *App) replaceImage(ctx context.Context, tenantID, partnerID int64, field, old string, data []byte,
	current func(ctx context.Context) (string, error), write func(ctx context.Context, name string) error) (string, error) {
	name, err := a.SaveImage(ctx, bytes.Clone(data), field)
	if err != nil {
		return "", err
	}
	oldSize := a.mediaSize(ctx, old)
	err = a.DB.InTx(ctx, func(ctx context.Context) error {
		now, err := a.imageInPlace(ctx, tenantID, partnerID, current)
		if err != nil {
			return err
		}
		if now != old {
			return regulars.Errorf(regulars.ECONFLICT, "Someone else changed the picture while you were editing. Upload yours again to replace theirs.")
		}
		if err := a.ReserveStorage(ctx, tenantID, partnerID, int64(len(data))-oldSize); err != nil {
			return err
		}
		return write(ctx, name)
	})
	if err != nil {
		a.deleteMedia(name)
		return "", err
	}
	if mediaName(old) {
		a.deleteMedia(old)
	}
	return name, nil
}

// imageInPlace takes the partner's lock, which every change of a picture
// takes first, and reads the picture in place with current ("" when
// current is nil: the object is not stored yet). Call it inside InTx.
func (a *App) imageInPlace(ctx context.Context, tenantID, partnerID int64, current func(ctx context.Context) (string, error)) (string, error) {
	if _, err := a.DB.LockPartner(ctx, tenantID, partnerID); err != nil {
		return "", err
	}
	if current == nil {
		return "", nil
	}
	return current(ctx)
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
	current := func(ctx context.Context) (string, error) {
		c, err := a.DB.Channel(ctx, actor.PartnerID(), id)
		if err != nil {
			return "", err
		}
		return c.Logo, nil
	}
	name, err := a.replaceImage(ctx, actor.User.TenantID, actor.PartnerID(), "logo", c.Logo, data, current, func(ctx context.Context, name string) error {
		return a.DB.SetChannelLogo(ctx, actor.PartnerID(), id, name)
	})
	if err != nil {
		return nil, err
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
