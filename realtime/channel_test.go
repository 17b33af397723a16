package realtime_test

import (
	"net/url"
	"testing"
	"time"

	"regulars"
	"regulars/app"
	"regulars/internal/testenv"
	"regulars/store"
)

// isChannel matches a channel event about channel id in the state given
// (following nil: an event for every follower, which leaves it out).
func isChannel(id int64, chat bool, following *bool) func(frame) bool {
	return func(f frame) bool {
		if f.Type != "channel" || f.Channel == nil || f.Channel.ID != id || f.Channel.ChatEnabled != chat {
			return false
		}
		if following == nil {
			return f.Channel.Following == nil
		}
		return f.Channel.Following != nil && *f.Channel.Following == *following
	}
}

// A follower's open app learns at once that it can no longer write to a
// channel, or can again: the channel's chat switched off or on (every
// follower of the tenant is told, no one of another tenant, no agent), the
// channel unfollowed or followed again on another device (that follower
// alone).
func TestChannelChangesReachFollowers(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		fa, token := w.follower("mia@example.com")
		_, leoToken := w.follower("leo@example.com")
		ch := w.w.Channel
		_, annHeader := w.agent(w.w.Partner.ID, "ann@alpha.example", regulars.LevelUpdate)
		other, err := w.srv.App.SignUpFollower(w.ctx, app.SignUpInput{Tenant: w.w.OtherTenant.Slug, Password: testenv.Password, ProfileInput: app.ProfileInput{Name: "Otto", Email: "otto@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		owner, _ := w.session(w.w.Owner.Email)
		mia := dial(t, "mia", w.srv.URL, nil, "?token="+url.QueryEscape(token))
		leo := dial(t, "leo", w.srv.URL, nil, "?token="+url.QueryEscape(leoToken))
		otto := dial(t, "otto", w.srv.URL, nil, "?token="+url.QueryEscape(other.Token))
		ann := dial(t, "ann", w.srv.URL, annHeader, "")
		for _, c := range []*client{mia, leo, otto, ann} {
			c.await("hello", isHello)
		}

		set := func(on bool) {
			t.Helper()
			if _, err := w.srv.App.UpdateChannel(w.ctx, owner, ch.ID, app.ChannelInput{Name: ch.Name, ChatEnabled: on}); err != nil {
				t.Fatal(err)
			}
		}
		set(false)
		mia.await("chat switched off", isChannel(ch.ID, false, nil))
		leo.await("chat switched off", isChannel(ch.ID, false, nil))
		// Saved again unchanged: nothing to tell.
		set(false)
		mia.quiet(200*time.Millisecond, "an event for a save that changed nothing", func(f frame) bool { return f.Type == "channel" })
		set(true)
		mia.await("chat switched on", isChannel(ch.ID, true, nil))
		otto.quiet(200*time.Millisecond, "another tenant's channel", func(f frame) bool { return f.Type == "channel" })
		ann.quiet(10*time.Millisecond, "a follower's event", func(f frame) bool { return f.Type == "channel" })

		no, yes := false, true
		if err := w.srv.App.Unfollow(w.ctx, fa, ch.ID); err != nil {
			t.Fatal(err)
		}
		mia.await("unfollowed", isChannel(ch.ID, true, &no))
		if _, err := w.srv.App.Follow(w.ctx, fa, ch.ID); err != nil {
			t.Fatal(err)
		}
		mia.await("followed again", isChannel(ch.ID, true, &yes))
		leo.quiet(200*time.Millisecond, "Mia's follow", func(f frame) bool { return f.Type == "channel" && f.Channel.Following != nil })
	})
}
