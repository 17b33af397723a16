package api

import (
	"net/http"

	"regulars"
	"regulars/httpx"
)

// table is THE routes table of the API. Each entry says who may call the
// route and which typed handler serves it; the handler's request and
// response types are what the OpenAPI document shows.
func (x *API) table() []endpoint {
	const (
		none   = regulars.LevelNone
		view   = regulars.LevelView
		update = regulars.LevelUpdate
		manage = regulars.LevelManage
	)
	users, roles := regulars.FeatureUsers, regulars.FeatureRoles
	conflict := []int{http.StatusConflict}
	routes := []endpoint{
		// The caller.
		{Method: "GET", Pattern: "/api/v1/me", Side: httpx.Staff, Level: none,
			Doc: "The caller: user, role, partner and effective permissions", Op: handle(x, http.StatusOK, x.me)},
		{Method: "GET", Pattern: "/api/v1/features", Side: httpx.Staff, Level: none,
			Doc: "The features the caller's roles can grant, with labels", Op: handle(x, http.StatusOK, x.features)},

		// Users of the partner.
		{Method: "GET", Pattern: "/api/v1/users", Side: httpx.Partner, Feature: users, Level: view,
			Doc: "List the partner's users", Op: handle(x, http.StatusOK, x.listUsers)},
		{Method: "POST", Pattern: "/api/v1/users", Side: httpx.Partner, Feature: users, Level: manage,
			Doc: "Invite a user: they get an email with a link to set their password", Op: handle(x, http.StatusCreated, x.createUser)},
		{Method: "GET", Pattern: "/api/v1/users/{id}", Side: httpx.Partner, Feature: users, Level: view,
			Doc: "Get a user", Op: handle(x, http.StatusOK, x.getUser)},
		{Method: "PATCH", Pattern: "/api/v1/users/{id}", Side: httpx.Partner, Feature: users, Level: update,
			Doc: "Change a user's details or role", Op: handle(x, http.StatusOK, x.updateUser)},
		{Method: "POST", Pattern: "/api/v1/users/{id}/disable", Side: httpx.Partner, Feature: users, Level: update,
			Doc: "Disable a user: their sessions and live connections end", Op: handle(x, http.StatusOK, x.disableUser), Errors: conflict},
		{Method: "POST", Pattern: "/api/v1/users/{id}/enable", Side: httpx.Partner, Feature: users, Level: update,
			Doc: "Enable a disabled user again", Op: handle(x, http.StatusOK, x.enableUser), Errors: conflict},
		{Method: "POST", Pattern: "/api/v1/users/{id}/resend-invite", Side: httpx.Partner, Feature: users, Level: update,
			Doc: "Send an invited user a new link; earlier links stop working", Op: handle(x, http.StatusNoContent, x.resendInvite), Errors: conflict},
		{Method: "POST", Pattern: "/api/v1/users/{id}/password", Side: httpx.Partner, Feature: users, Level: update,
			Doc: "Set a user's password; their sessions end", Op: handle(x, http.StatusNoContent, x.setUserPassword)},

		// Roles of the partner.
		{Method: "GET", Pattern: "/api/v1/roles", Side: httpx.Partner, Feature: roles, Level: view,
			Doc: "List the partner's roles", Op: handle(x, http.StatusOK, x.listRoles)},
		{Method: "POST", Pattern: "/api/v1/roles", Side: httpx.Partner, Feature: roles, Level: manage,
			Doc: "Create a role; it cannot grant more than the caller's own levels", Op: handle(x, http.StatusCreated, x.createRole)},
		{Method: "GET", Pattern: "/api/v1/roles/{id}", Side: httpx.Partner, Feature: roles, Level: view,
			Doc: "Get a role", Op: handle(x, http.StatusOK, x.getRole)},
		{Method: "PATCH", Pattern: "/api/v1/roles/{id}", Side: httpx.Partner, Feature: roles, Level: update,
			Doc: "Rename a role or change its levels", Op: handle(x, http.StatusOK, x.updateRole), Errors: conflict},
		{Method: "DELETE", Pattern: "/api/v1/roles/{id}", Side: httpx.Partner, Feature: roles, Level: manage,
			Doc: "Delete a role nobody holds; a role in use answers 409 with its holders", Op: handle(x, http.StatusNoContent, x.deleteRole), Errors: conflict},
	}
	routes = append(routes, x.locationTable()...)
	routes = append(routes, x.chatTable()...)
	routes = append(routes, x.partnershipTable()...)
	routes = append(routes, x.segmentTable()...)
	return append(routes, x.followerTable()...)
}

// followerTable is the follower API: what the tenant's app (and the
// follower web app at /app) calls with a follower's token.
func (x *API) followerTable() []endpoint {
	f, pub := httpx.Follower, httpx.Public
	conflict := []int{http.StatusConflict}
	tooMany := []int{http.StatusUnauthorized, http.StatusTooManyRequests}
	return []endpoint{
		{Method: "POST", Pattern: "/api/v1/follower/signup", Side: pub,
			Doc: "Create a follower account with a fresh end-user ID; answers a bearer token", Op: handle(x, http.StatusCreated, x.signUp)},
		{Method: "POST", Pattern: "/api/v1/follower/signin", Side: pub,
			Doc: "Sign a follower in with email and password; answers a bearer token", Op: handle(x, http.StatusOK, x.signIn), Errors: tooMany},
		{Method: "POST", Pattern: "/api/v1/follower/signout", Side: f,
			Doc: "End the follower token in use", Op: handle(x, http.StatusNoContent, x.signOut)},
		{Method: "GET", Pattern: "/api/v1/follower/me", Side: f,
			Doc: "The follower's profile; unknown attributes are null", Op: handle(x, http.StatusOK, x.followerMe)},
		{Method: "PUT", Pattern: "/api/v1/follower/me", Side: f,
			Doc: "Replace the follower's profile; optional attributes left out become unknown", Op: handle(x, http.StatusOK, x.updateFollowerMe)},
		{Method: "GET", Pattern: "/api/v1/follower/me/code", Side: f,
			Doc: "The follower's end-user ID and a QR code of it for staff to scan", Op: handle(x, http.StatusOK, x.followerCode)},
		{Method: "GET", Pattern: "/api/v1/follower/channels", Side: f,
			Doc: "Browse the tenant's active channels; ?q= searches names and descriptions", Op: handle(x, http.StatusOK, x.browseChannels)},
		{Method: "GET", Pattern: "/api/v1/follower/channels/{id}", Side: f,
			Doc: "A channel page: the channel, its live engagements for the follower and the messages received", Op: handle(x, http.StatusOK, x.channelPage)},
		{Method: "POST", Pattern: "/api/v1/follower/channels/{id}/follow", Side: f,
			Doc: "Follow a channel (a new period after unfollowing); answers the channel page", Op: handle(x, http.StatusOK, x.followChannel)},
		{Method: "POST", Pattern: "/api/v1/follower/channels/{id}/unfollow", Side: f,
			Doc: "Stop following a channel; the history keeps the period", Op: handle(x, http.StatusNoContent, x.unfollowChannel), Errors: conflict},
		{Method: "PUT", Pattern: "/api/v1/follower/channels/{id}/notifications", Side: f,
			Doc: "Switch a followed channel's notifications on or off", Op: handle(x, http.StatusNoContent, x.channelNotifications), Errors: conflict},
		{Method: "GET", Pattern: "/api/v1/follower/channels/{id}/messages", Side: f,
			Doc: "The follower's message thread of a channel, newest first", Op: handle(x, http.StatusOK, x.channelMessages)},
		{Method: "POST", Pattern: "/api/v1/follower/messages/{id}/open", Side: f,
			Doc: "Record that the follower opened a message they received", Op: handle(x, http.StatusNoContent, x.openMessage)},
		{Method: "GET", Pattern: "/api/v1/follower/follows", Side: f,
			Doc: "The channels the follower follows or followed, with every follow period", Op: handle(x, http.StatusOK, x.myFollows)},
		{Method: "GET", Pattern: "/api/v1/follower/coupons", Side: f,
			Doc: "The follower's coupons (enabled, redeemed, expired), newest first", Op: handle(x, http.StatusOK, x.myCoupons)},
		{Method: "POST", Pattern: "/api/v1/follower/coupons/{id}/enable", Side: f,
			Doc: "Enable a coupon; a refusal (expired, out of stock, redeemed already, level too low, not enough points) answers 409 with the reason", Op: handle(x, http.StatusOK, x.enableCoupon), Errors: conflict},
		{Method: "POST", Pattern: "/api/v1/follower/activations/{id}/redeem", Side: f,
			Doc: "Redeem an enabled coupon (time-based ones start their proof screen); refusals answer 409 with the reason", Op: handle(x, http.StatusOK, x.redeemCoupon), Errors: conflict},
		{Method: "GET", Pattern: "/api/v1/follower/programs", Side: f,
			Doc: "The follower's loyalty programs with current points, total points and level", Op: handle(x, http.StatusOK, x.myPrograms)},
		{Method: "POST", Pattern: "/api/v1/follower/programs/{id}/join", Side: f,
			Doc: "Join a loyalty program", Op: handle(x, http.StatusOK, x.joinProgram), Errors: conflict},
		{Method: "GET", Pattern: "/api/v1/follower/programs/{id}/ledger", Side: f,
			Doc: "The follower's point ledger in a program, newest first", Op: handle(x, http.StatusOK, x.myLedger)},
		{Method: "GET", Pattern: "/api/v1/follower/activity", Side: f,
			Doc: "The follower's activity feed, newest first; ?kind= an engagement kind, ?before= an id to page", Op: handle(x, http.StatusOK, x.myActivity)},
		{Method: "GET", Pattern: "/api/v1/follower/notifications", Side: f,
			Doc: "The follower's notification feed, newest first, with the unread count; ?before= an id to page", Op: handle(x, http.StatusOK, x.myNotifications)},
		{Method: "POST", Pattern: "/api/v1/follower/notifications/{id}/read", Side: f,
			Doc: "Mark a notification read", Op: handle(x, http.StatusNoContent, x.readNotification)},
	}
}
