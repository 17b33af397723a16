package api

import (
	"net/http"

	"regulars/app"
)

func (x *API) listUsers(r *http.Request, _ noBody) (UserList, error) {
	users, err := x.app.Users(r.Context(), actorOf(r))
	if err != nil {
		return UserList{}, err
	}
	out := UserList{Items: make([]User, len(users))}
	for i, u := range users {
		out.Items[i] = userOut(u)
	}
	return out, nil
}

func (x *API) getUser(r *http.Request, _ noBody) (User, error) {
	id, err := pathID(r, "user")
	if err != nil {
		return User{}, err
	}
	u, err := x.app.User(r.Context(), actorOf(r), id)
	if err != nil {
		return User{}, err
	}
	return userOut(u), nil
}

func (x *API) createUser(r *http.Request, in UserCreate) (User, error) {
	u, err := x.app.CreateUser(r.Context(), actorOf(r), app.UserInput{Name: in.Name, Email: in.Email, Phone: in.Phone, RoleID: in.RoleID})
	if err != nil {
		return User{}, err
	}
	return userOut(u), nil
}

func (x *API) updateUser(r *http.Request, in UserUpdate) (User, error) {
	id, err := pathID(r, "user")
	if err != nil {
		return User{}, err
	}
	ctx, actor := r.Context(), actorOf(r)
	u, err := x.app.User(ctx, actor, id)
	if err != nil {
		return User{}, err
	}
	change := app.UserInput{Name: u.Name, Email: u.Email, Phone: u.Phone, RoleID: u.RoleID}
	set(&change.Name, in.Name)
	set(&change.Email, in.Email)
	set(&change.Phone, in.Phone)
	set(&change.RoleID, in.RoleID)
	if u, err = x.app.UpdateUser(ctx, actor, id, change); err != nil {
		return User{}, err
	}
	return userOut(u), nil
}

// set copies a member of a partial update that the client sent.
func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

func (x *API) disableUser(r *http.Request, _ noBody) (User, error) { return x.setEnabled(r, false) }

func (x *API) enableUser(r *http.Request, _ noBody) (User, error) { return x.setEnabled(r, true) }

func (x *API) setEnabled(r *http.Request, enabled bool) (User, error) {
	id, err := pathID(r, "user")
	if err != nil {
		return User{}, err
	}
	ctx, actor := r.Context(), actorOf(r)
	if err := x.app.SetUserEnabled(ctx, actor, id, enabled); err != nil {
		return User{}, err
	}
	u, err := x.app.User(ctx, actor, id)
	if err != nil {
		return User{}, err
	}
	return userOut(u), nil
}

func (x *API) resendInvite(r *http.Request, _ noBody) (noBody, error) {
	id, err := pathID(r, "user")
	if err != nil {
		return noBody{}, err
	}
	return noBody{}, x.app.ResendInvite(r.Context(), actorOf(r), id)
}

func (x *API) setUserPassword(r *http.Request, in PasswordSet) (noBody, error) {
	id, err := pathID(r, "user")
	if err != nil {
		return noBody{}, err
	}
	// The API has no second field to retype the password into: a client
	// that wants one checks it itself.
	return noBody{}, x.app.SetUserPassword(r.Context(), actorOf(r), id, in.Password, in.Password)
}
