package app

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strconv"
	"time"

	"regulars"
	"regulars/geo"
)

// Rules of position updates.
const (
	// MaxPositionAhead tolerates device clocks a little ahead of ours.
	MaxPositionAhead = 2 * time.Minute
	// MaxPositionAge refuses positions too old to act on: a follower who
	// was near a shop an hour ago is not near it now.
	MaxPositionAge = time.Hour
	// MaxUsefulAccuracy: positions less precise than this (cell towers, IP
	// addresses) are accepted but fire nothing; they cannot tell one street
	// from the next.
	MaxUsefulAccuracy = 1000.0
	// DefaultCooldown applies to engagements without a cooldown of their own.
	DefaultCooldown = 24 * time.Hour
)

// PositionInput is a position the follower's app reports. Nil members
// are missing.
type PositionInput struct {
	Lat, Lng *float64
	Accuracy *float64   // metres, radius of 68 % confidence; nil = unknown
	Time     *time.Time // when the device measured it; nil = now
}

// Firing is an engagement a position fired.
type Firing struct {
	Engagement *regulars.Engagement
	// Outcome says what the follower got: message_delivered,
	// coupon_enabled, coupon_available, points_awarded or visit_recorded
	// (the visit counts, but the rules gave nothing, e.g. not a member).
	Outcome string
	Points  int64
}

// PositionResult is what a position update did.
type PositionResult struct {
	Fired []*Firing
	Note  string // why nothing could fire, when the position itself says so
}

func (in PositionInput) validate(now time.Time) (lat, lng, accuracy float64, at time.Time, err error) {
	v := regulars.Validation{}
	coordinate := func(field string, p *float64, limit float64, label string) float64 {
		switch {
		case p == nil:
			v.Add(field, label+" is required, in degrees.")
		case math.IsNaN(*p) || *p < -limit || *p > limit:
			v.Add(field, label+" must be between -"+strconv.FormatFloat(limit, 'f', -1, 64)+" and "+strconv.FormatFloat(limit, 'f', -1, 64)+".")
		default:
			return *p
		}
		return 0
	}
	lat = coordinate("lat", in.Lat, 90, "Latitude")
	lng = coordinate("lng", in.Lng, 180, "Longitude")
	accuracy = -1
	if in.Accuracy != nil {
		accuracy = *in.Accuracy
		if math.IsNaN(accuracy) || accuracy < 0 || accuracy > 1_000_000 {
			v.Add("accuracy", "Accuracy must be between 0 and 1000000 metres.")
		}
	}
	at = now
	if in.Time != nil {
		at = in.Time.UTC()
		switch {
		case at.After(now.Add(MaxPositionAhead)):
			v.Add("time", "This position is timed in the future; check the device's clock.")
		case at.Before(now.Add(-MaxPositionAge)):
			v.Add("time", "This position is more than an hour old; send current positions only.")
		}
	}
	return lat, lng, accuracy, at, v.Err()
}

// ReportPosition handles a follower's position: every active targeting
// location containing it fires the engagements attached to it, once per
// follower and engagement in the engagement's cooldown window, for
// followers of the engagement's channel in its audience only; each firing
// records a "location visited" activity.
func (a *App) ReportPosition(ctx context.Context, fa *FollowerActor, in PositionInput) (*PositionResult, error) {
	f := fa.Follower
	if f.Status != regulars.FollowerActive {
		return nil, regulars.Errorf(regulars.EUNAUTHORIZED, "This account is disabled.")
	}
	now := a.now()
	lat, lng, accuracy, _, err := in.validate(now)
	if err != nil {
		return nil, err
	}
	res := &PositionResult{}
	if accuracy > MaxUsefulAccuracy {
		res.Note = "Positions less precise than 1000 metres do not trigger locations."
		return res, nil
	}
	g, err := a.geofence(ctx, fa.Tenant.ID)
	if err != nil {
		return nil, err
	}
	targets := g.lookup(lat, lng)
	if len(targets) == 0 {
		return res, nil
	}
	slices.SortFunc(targets, func(x, y *fenceTarget) int { return cmp.Compare(x.LocationID, y.LocationID) })

	follows, err := a.DB.Follows(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	following := map[int64]bool{}
	for _, fl := range follows {
		following[fl.ChannelID] = true
	}
	seen := map[int64]bool{}
	for _, t := range targets {
		for _, fe := range t.Engagements {
			// One firing per engagement per update, whichever of its
			// locations matched first; only channels the follower follows.
			if seen[fe.ID] || !following[fe.ChannelID] {
				continue
			}
			seen[fe.ID] = true
			// Most updates inside a location come within the cooldown:
			// a read settles them without a write (the claim re-checks).
			last, err := a.DB.LastLocationFiring(ctx, fe.ID, f.ID)
			if err != nil {
				return nil, err
			}
			if !last.IsZero() && now.Before(last.Add(cooldownOf(fe.Cooldown))) {
				continue
			}
			// The index may lag behind a change made a moment ago on
			// another node: the location as it is now decides.
			clat, clng, radius, ok, err := a.DB.LocationTarget(ctx, fa.Tenant.ID, t.LocationID, fe.ID)
			if err != nil {
				return nil, err
			}
			if !ok || radius <= 0 || !geo.Within(lat, lng, clat, clng, radius) {
				continue
			}
			e, err := a.DB.TenantEngagement(ctx, fa.Tenant.ID, fe.ID)
			if regulars.ErrorCode(err) == regulars.ENOTFOUND {
				continue
			} else if err != nil {
				return nil, err
			}
			if !Live(e, now) {
				continue
			}
			ok, err = a.InAudience(ctx, e, f.ID)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
			firing, err := a.fire(ctx, e, f.ID, t.LocationID, now)
			if err != nil {
				return nil, err
			}
			if firing != nil {
				res.Fired = append(res.Fired, firing)
			}
		}
	}
	return res, nil
}

func cooldownOf(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultCooldown
	}
	return d
}

// fire gives a follower what an engagement offers for a visit, unless it
// already did within the cooldown window. The claim, the activity and the
// gift are one transaction: a failure gives the claim back.
func (a *App) fire(ctx context.Context, e *regulars.Engagement, followerID, locationID int64, now time.Time) (*Firing, error) {
	cooldown := cooldownOf(time.Duration(e.CooldownSeconds) * time.Second)
	var firing *Firing
	err := a.DB.InTx(ctx, func(ctx context.Context) error {
		firing = nil
		claimed, err := a.DB.ClaimLocationFiring(ctx, e.ID, followerID, locationID, now, cooldown)
		if err != nil || !claimed {
			return err
		}
		if err := a.activity(ctx, e, followerID, regulars.ActLocationVisited, 0, "Visit near "+e.Name); err != nil {
			return err
		}
		firing = &Firing{Engagement: e, Outcome: "visit_recorded"}
		visit := strconv.FormatInt(locationID, 10) + ":" + strconv.FormatInt(now.UnixMilli(), 10)
		switch e.Kind {
		case regulars.KindMessage:
			delivered, err := a.DeliverMessageTo(ctx, e, followerID, "visit:"+visit)
			if err != nil {
				return err
			}
			if delivered {
				firing.Outcome = "message_delivered"
			}
		case regulars.KindCoupon:
			if e.Coupon != nil && e.Coupon.RedemptionType == regulars.RedeemAutoVisit {
				_, err := a.ActivateCouponFor(ctx, e, followerID)
				switch {
				case err == nil:
					firing.Outcome = "coupon_enabled"
				case !isRefusal(err):
					return err
				}
				return nil
			}
			// Other coupons become available: the follower is told and
			// enables it from the channel page if the rules allow.
			if err := a.checkCouponRules(ctx, e, followerID); err != nil {
				if !isRefusal(err) {
					return err
				}
				return nil
			}
			if err := a.notify(ctx, e, followerID, "coupon", "A coupon for you nearby", e.Name+" is available: enable it in your coupons."); err != nil {
				return err
			}
			firing.Outcome = "coupon_available"
		case regulars.KindLoyalty:
			points, err := a.AwardVisitPoints(ctx, e, followerID, visit)
			if err != nil {
				return err
			}
			if points > 0 {
				firing.Outcome, firing.Points = "points_awarded", points
			}
		}
		return nil
	})
	return firing, err
}

// StoreLocation is a shop shown on a channel page, with its distance from
// the follower when their position is known.
type StoreLocation struct {
	*regulars.Location
	Distance float64 // metres; -1 when unknown
}

// ChannelLocations lists the store locations of a channel's partner for
// the channel page, nearest first when the follower's position (lat, lng)
// is given.
func (a *App) ChannelLocations(ctx context.Context, fa *FollowerActor, channelID int64, lat, lng *float64) ([]*StoreLocation, error) {
	c, err := a.followerChannel(ctx, fa, channelID)
	if err != nil {
		return nil, err
	}
	v := regulars.Validation{}
	if (lat == nil) != (lng == nil) {
		v.Add("lat", "Send both lat and lng, or neither.")
	}
	if lat != nil && (math.IsNaN(*lat) || *lat < -90 || *lat > 90) {
		v.Add("lat", "Latitude must be between -90 and 90.")
	}
	if lng != nil && (math.IsNaN(*lng) || *lng < -180 || *lng > 180) {
		v.Add("lng", "Longitude must be between -180 and 180.")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	list, err := a.DB.StoreLocations(ctx, fa.Tenant.ID, c.PartnerID)
	if err != nil {
		return nil, err
	}
	out := make([]*StoreLocation, len(list))
	for i, l := range list {
		out[i] = &StoreLocation{Location: l, Distance: -1}
		if lat != nil {
			out[i].Distance = math.Round(geo.Distance(*lat, *lng, l.Lat, l.Lng))
		}
	}
	if lat != nil {
		slices.SortStableFunc(out, func(x, y *StoreLocation) int { return cmp.Compare(x.Distance, y.Distance) })
	}
	return out, nil
}
