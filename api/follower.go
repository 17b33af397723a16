package api

import (
	"context"
	"net/http"
	"strconv"

	"regulars"
	"regulars/app"
	"regulars/httpx"
)

type followerKey struct{}

// followerOf returns the follower the middleware authenticated.
func followerOf(r *http.Request) *app.FollowerActor {
	return r.Context().Value(followerKey{}).(*app.FollowerActor)
}

func withFollower(r *http.Request, fa *app.FollowerActor) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), followerKey{}, fa))
}

func (x *API) signUp(r *http.Request, in SignUp) (FollowerSession, error) {
	s, err := x.app.SignUpFollower(r.Context(), app.SignUpInput{Tenant: in.Tenant, Password: in.Password, ProfileInput: app.ProfileInput{
		Name: in.Name, Email: in.Email, Phone: in.Phone, BirthDate: deref(in.BirthDate), Gender: deref(in.Gender), Language: deref(in.Language)}})
	if err != nil {
		return FollowerSession{}, err
	}
	return FollowerSession{Token: s.Token, Follower: profileOut(s.Actor.Follower, x.app.Clock.Now())}, nil
}

func (x *API) signIn(r *http.Request, in SignIn) (FollowerSession, error) {
	s, err := x.app.SignInFollower(r.Context(), in.Tenant, in.Email, in.Password, httpx.ClientIP(r, x.trustProxy))
	if err != nil {
		return FollowerSession{}, err
	}
	return FollowerSession{Token: s.Token, Follower: profileOut(s.Actor.Follower, x.app.Clock.Now())}, nil
}

func (x *API) signOut(r *http.Request, _ noBody) (noBody, error) {
	return noBody{}, x.app.SignOutFollower(r.Context(), followerOf(r))
}

func (x *API) followerMe(r *http.Request, _ noBody) (FollowerProfile, error) {
	return profileOut(followerOf(r).Follower, x.app.Clock.Now()), nil
}

func (x *API) updateFollowerMe(r *http.Request, in ProfileUpdate) (FollowerProfile, error) {
	f, err := x.app.UpdateFollowerProfile(r.Context(), followerOf(r), app.ProfileInput{Name: in.Name, Email: in.Email, Phone: in.Phone,
		BirthDate: deref(in.BirthDate), Gender: deref(in.Gender), Language: deref(in.Language)})
	if err != nil {
		return FollowerProfile{}, err
	}
	return profileOut(f, x.app.Clock.Now()), nil
}

func (x *API) followerCode(r *http.Request, _ noBody) (EndUserCode, error) {
	euid := followerOf(r).Follower.EndUserID
	svg, err := app.QRCodeSVG(euid)
	if err != nil {
		return EndUserCode{}, err
	}
	return EndUserCode{EndUserID: euid, QRSVG: svg}, nil
}

func (x *API) browseChannels(r *http.Request, _ noBody) (ChannelList, error) {
	ctx, fa := r.Context(), followerOf(r)
	list, err := x.app.BrowseChannels(ctx, fa, r.URL.Query().Get("q"))
	if err != nil {
		return ChannelList{}, err
	}
	follows, err := x.app.DB.Follows(ctx, fa.Follower.ID)
	if err != nil {
		return ChannelList{}, err
	}
	by := map[int64]*regulars.Follow{}
	for _, f := range follows {
		by[f.ChannelID] = f
	}
	out := ChannelList{Items: make([]Channel, 0, len(list))}
	for _, c := range list {
		out.Items = append(out.Items, channelOut(c, by[c.ID]))
	}
	return out, nil
}

func (x *API) channelPage(r *http.Request, _ noBody) (ChannelPage, error) {
	id, err := pathID(r, "channel")
	if err != nil {
		return ChannelPage{}, err
	}
	page, err := x.app.ChannelPageFor(r.Context(), followerOf(r), id)
	if err != nil {
		return ChannelPage{}, err
	}
	return x.channelPageOut(page), nil
}

func (x *API) channelPageOut(page *app.ChannelPage) ChannelPage {
	out := ChannelPage{Channel: channelOut(page.Channel, page.Follow), Engagements: make([]Offer, 0, len(page.Engagements)), Messages: threadOut(page.Messages),
		ChatFileLimit: x.app.MaxAttachment(), ChatFileTooLarge: regulars.ErrorMessage(x.app.AttachmentTooLarge())}
	if page.Follow != nil {
		out.FollowedAt = &page.Follow.FollowedAt
	}
	for _, oe := range page.Engagements {
		e := oe.Engagement
		o := Offer{ID: e.ID, Kind: Kind(e.Kind), Name: e.Name, Description: e.Description, ImageURL: mediaURL(e.Image), EndsAt: when(e.EndsAt),
			MyActivation: activationOut(oe.Activation), RedeemedCount: oe.Redeemed, Refusal: oe.Refusal}
		switch e.Kind {
		case regulars.KindCoupon:
			o.Coupon = couponInfo(e, oe.Program)
			if oe.Program != nil {
				o.ProgramName = oe.Program.Name
			}
		case regulars.KindLoyalty:
			o.Program = programInfo(e)
			o.MyMembership = membershipOut(oe.Membership, e)
		}
		out.Engagements = append(out.Engagements, o)
	}
	return out
}

func (x *API) followChannel(r *http.Request, _ noBody) (ChannelPage, error) {
	id, err := pathID(r, "channel")
	if err != nil {
		return ChannelPage{}, err
	}
	ctx, fa := r.Context(), followerOf(r)
	if _, err := x.app.Follow(ctx, fa, id); err != nil {
		return ChannelPage{}, err
	}
	page, err := x.app.ChannelPageFor(ctx, fa, id)
	if err != nil {
		return ChannelPage{}, err
	}
	return x.channelPageOut(page), nil
}

func (x *API) unfollowChannel(r *http.Request, _ noBody) (noBody, error) {
	id, err := pathID(r, "channel")
	if err != nil {
		return noBody{}, err
	}
	return noBody{}, x.app.Unfollow(r.Context(), followerOf(r), id)
}

func (x *API) channelNotifications(r *http.Request, in NotificationSwitch) (noBody, error) {
	id, err := pathID(r, "channel")
	if err != nil {
		return noBody{}, err
	}
	return noBody{}, x.app.SetChannelNotifications(r.Context(), followerOf(r), id, in.Enabled)
}

func (x *API) channelMessages(r *http.Request, _ noBody) (ThreadMessageList, error) {
	id, err := pathID(r, "channel")
	if err != nil {
		return ThreadMessageList{}, err
	}
	ms, err := x.app.ChannelMessages(r.Context(), followerOf(r), id)
	if err != nil {
		return ThreadMessageList{}, err
	}
	return ThreadMessageList{Items: threadOut(ms)}, nil
}

func (x *API) openMessage(r *http.Request, _ noBody) (noBody, error) {
	id, err := pathID(r, "message")
	if err != nil {
		return noBody{}, err
	}
	return noBody{}, x.app.OpenMessage(r.Context(), followerOf(r), id)
}

func (x *API) myFollows(r *http.Request, _ noBody) (FollowList, error) {
	list, err := x.app.MyChannels(r.Context(), followerOf(r))
	if err != nil {
		return FollowList{}, err
	}
	out := FollowList{Items: make([]FollowedChannel, 0, len(list))}
	for _, fc := range list {
		item := FollowedChannel{Channel: channelOut(fc.Channel, fc.Current), Periods: []FollowPeriod{}}
		for _, p := range fc.Periods {
			item.Periods = append(item.Periods, FollowPeriod{FollowedAt: p.FollowedAt, UnfollowedAt: when(p.UnfollowedAt)})
		}
		out.Items = append(out.Items, item)
	}
	return out, nil
}

func (x *API) myCoupons(r *http.Request, _ noBody) (MyCouponList, error) {
	list, err := x.app.MyCoupons(r.Context(), followerOf(r))
	if err != nil {
		return MyCouponList{}, err
	}
	out := MyCouponList{Items: make([]MyCoupon, 0, len(list))}
	for _, mc := range list {
		out.Items = append(out.Items, MyCoupon{Activation: *activationOut(mc.Activation), CouponID: mc.Coupon.ID, Name: mc.Coupon.Name, Description: mc.Coupon.Description,
			ImageURL: mediaURL(mc.Coupon.Image), ChannelID: mc.Channel.ID, ChannelName: mc.Channel.Name, Coupon: couponInfo(mc.Coupon, nil)})
	}
	return out, nil
}

func (x *API) enableCoupon(r *http.Request, _ noBody) (Activation, error) {
	id, err := pathID(r, "coupon")
	if err != nil {
		return Activation{}, err
	}
	act, err := x.app.EnableCoupon(r.Context(), followerOf(r), id)
	if err != nil {
		return Activation{}, err
	}
	return *activationOut(act), nil
}

func (x *API) redeemCoupon(r *http.Request, _ noBody) (Activation, error) {
	id, err := pathID(r, "coupon")
	if err != nil {
		return Activation{}, err
	}
	act, _, err := x.app.RedeemCoupon(r.Context(), followerOf(r), id)
	if err != nil {
		return Activation{}, err
	}
	return *activationOut(act), nil
}

func (x *API) myPrograms(r *http.Request, _ noBody) (MyProgramList, error) {
	list, err := x.app.MyPrograms(r.Context(), followerOf(r))
	if err != nil {
		return MyProgramList{}, err
	}
	out := MyProgramList{Items: make([]MyProgram, 0, len(list))}
	for _, mp := range list {
		item := MyProgram{ID: mp.Program.ID, Name: mp.Program.Name, ChannelID: mp.Channel.ID, ChannelName: mp.Channel.Name, Program: programInfo(mp.Program),
			Membership: *membershipOut(mp.Membership, mp.Program)}
		if mp.Next != nil {
			item.NextLevel = &ProgramLevel{Position: mp.Next.Position, Name: mp.Next.Name, Threshold: mp.Next.Threshold}
		}
		out.Items = append(out.Items, item)
	}
	return out, nil
}

func (x *API) joinProgram(r *http.Request, _ noBody) (Membership, error) {
	id, err := pathID(r, "loyalty program")
	if err != nil {
		return Membership{}, err
	}
	ctx, fa := r.Context(), followerOf(r)
	m, err := x.app.JoinProgram(ctx, fa, id)
	if err != nil {
		return Membership{}, err
	}
	p, err := x.app.DB.TenantEngagement(ctx, fa.Tenant.ID, id)
	if err != nil {
		return Membership{}, err
	}
	return *membershipOut(m, p), nil
}

func (x *API) myLedger(r *http.Request, _ noBody) (LedgerList, error) {
	id, err := pathID(r, "loyalty program")
	if err != nil {
		return LedgerList{}, err
	}
	list, err := x.app.MyLedger(r.Context(), followerOf(r), id)
	if err != nil {
		return LedgerList{}, err
	}
	out := LedgerList{Items: make([]LedgerEntry, 0, len(list))}
	for _, e := range list {
		out.Items = append(out.Items, LedgerEntry{ID: e.ID, Kind: LedgerKind(e.Kind), Points: e.Points, Reason: e.Reason, CreatedAt: e.CreatedAt, ExpiresAt: when(e.ExpiresAt)})
	}
	return out, nil
}

func queryInt(r *http.Request, name string) int64 {
	n, _ := strconv.ParseInt(r.URL.Query().Get(name), 10, 64)
	return max(n, 0)
}

func (x *API) myActivity(r *http.Request, _ noBody) (ActivityList, error) {
	list, err := x.app.MyActivity(r.Context(), followerOf(r), r.URL.Query().Get("kind"), queryInt(r, "before"))
	if err != nil {
		return ActivityList{}, err
	}
	out := ActivityList{Items: make([]ActivityItem, 0, len(list))}
	for _, a := range list {
		out.Items = append(out.Items, ActivityItem{ID: a.ID, Kind: a.Kind, ChannelID: optID(a.ChannelID), EngagementID: optID(a.EngagementID), EngagementKind: a.EngagementKind,
			Points: a.Points, Text: a.Text, CreatedAt: a.CreatedAt})
	}
	return out, nil
}

func (x *API) myNotifications(r *http.Request, _ noBody) (NotificationList, error) {
	list, unread, err := x.app.MyNotifications(r.Context(), followerOf(r), queryInt(r, "before"))
	if err != nil {
		return NotificationList{}, err
	}
	out := NotificationList{Items: make([]Notification, 0, len(list)), Unread: unread}
	for _, n := range list {
		out.Items = append(out.Items, Notification{ID: n.ID, Kind: n.Kind, ChannelID: optID(n.ChannelID), EngagementID: optID(n.EngagementID), Title: n.Title, Body: n.Body,
			CreatedAt: n.CreatedAt, ReadAt: when(n.ReadAt)})
	}
	return out, nil
}

func (x *API) readNotification(r *http.Request, _ noBody) (noBody, error) {
	id, err := pathID(r, "notification")
	if err != nil {
		return noBody{}, err
	}
	return noBody{}, x.app.ReadNotification(r.Context(), followerOf(r), id)
}
