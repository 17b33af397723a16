package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"regulars"
)

const userCols = "id, tenant_id, COALESCE(partner_id, 0), role_id, name, email, phone, status, password_hash, password_changed_at, created_at, updated_at"

var (
	qUserInsert        = query("user_insert", `INSERT INTO users (tenant_id, partner_id, role_id, is_owner, name, email, phone, status, password_hash, password_changed_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qUserByID          = query("user_by_id", `SELECT `+userCols+` FROM users WHERE id = ?`)
	qUserScoped        = query("user_scoped", `SELECT `+userCols+` FROM users WHERE tenant_id = ? AND COALESCE(partner_id, 0) = ? AND id = ?`)
	qUserByEmail       = query("user_by_email", `SELECT `+userCols+` FROM users WHERE email = ?`)
	qUsersList         = query("users_list", `SELECT `+userCols+` FROM users WHERE tenant_id = ? AND COALESCE(partner_id, 0) = ? ORDER BY lower(name), id`)
	qUsersByRole       = query("users_by_role", `SELECT `+userCols+` FROM users WHERE role_id = ? ORDER BY lower(name), id`)
	qUserUpdate        = query("user_update", `UPDATE users SET name = ?, email = ?, phone = ?, role_id = ?, updated_at = ? WHERE id = ?`)
	qUserSetStatus     = query("user_set_status", `UPDATE users SET status = ?, updated_at = ? WHERE id = ?`)
	qUserSetPassword   = query("user_set_password", `UPDATE users SET password_hash = ?, password_changed_at = ?, status = CASE WHEN status = 'invited' THEN 'active' ELSE status END, updated_at = ? WHERE id = ?`)
	qUserSetOwner      = query("user_set_owner", `UPDATE users SET is_owner = ?, role_id = ?, updated_at = ? WHERE id = ?`)
	qUserIsOwner       = query("user_is_owner", `SELECT is_owner FROM users WHERE id = ?`)
	qUserOwner         = query("user_owner", `SELECT `+userCols+` FROM users WHERE tenant_id = ? AND COALESCE(partner_id, 0) = ? AND is_owner`)
	qUserCountByStatus = query("user_count_partner", `SELECT COUNT(*) FROM users WHERE tenant_id = ? AND COALESCE(partner_id, 0) = ? AND status <> 'disabled'`)
)

func scanUser(row interface{ Scan(...any) error }) (*regulars.User, error) {
	var u regulars.User
	var pwAt, created, updated int64
	if err := row.Scan(&u.ID, &u.TenantID, &u.PartnerID, &u.RoleID, &u.Name, &u.Email, &u.Phone, &u.Status, &u.PasswordHash, &pwAt, &created, &updated); err != nil {
		return nil, err
	}
	u.PasswordChangedAt, u.CreatedAt, u.UpdatedAt = fromMS(pwAt), fromMS(created), fromMS(updated)
	return &u, nil
}

var errEmailTaken = &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"email": "A user with this email already exists."}}

// CreateUser adds a staff user. owner marks the account owner.
func (db *DB) CreateUser(ctx context.Context, u *regulars.User, owner bool) error {
	now := db.now()
	u.CreatedAt, u.UpdatedAt = now, now
	u.Email = regulars.NormalizeEmail(u.Email)
	if u.Status == "" {
		u.Status = regulars.UserInvited
	}
	id, err := db.insert(ctx, qUserInsert, u.TenantID, nullID(u.PartnerID), u.RoleID, owner, strings.TrimSpace(u.Name), u.Email, u.Phone, u.Status, u.PasswordHash, ms(u.PasswordChangedAt), ms(now), ms(now))
	if db.dialect.isUnique(err) {
		if strings.Contains(err.Error(), "email") {
			return errEmailTaken
		}
		return regulars.Errorf(regulars.ECONFLICT, "This partner already has an account owner.")
	}
	u.ID = id
	return err
}

// User returns a user by id, unscoped: for sessions and tokens only.
func (db *DB) User(ctx context.Context, id int64) (*regulars.User, error) {
	u, err := scanUser(db.queryRow(ctx, qUserByID, id))
	return u, notFound(err, "user")
}

// ScopedUser returns a user of the tenant and partner (0 = tenant staff).
func (db *DB) ScopedUser(ctx context.Context, tenantID, partnerID, id int64) (*regulars.User, error) {
	u, err := scanUser(db.queryRow(ctx, qUserScoped, tenantID, partnerID, id))
	return u, notFound(err, "user")
}

// UserByEmail finds a user by sign-in email.
func (db *DB) UserByEmail(ctx context.Context, email string) (*regulars.User, error) {
	u, err := scanUser(db.queryRow(ctx, qUserByEmail, regulars.NormalizeEmail(email)))
	return u, notFound(err, "user")
}

// Users lists the users of a partner (0 = tenant staff).
func (db *DB) Users(ctx context.Context, tenantID, partnerID int64) ([]*regulars.User, error) {
	rows, err := db.queryRows(ctx, qUsersList, tenantID, partnerID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanUser)
}

// CountActiveUsers counts a partner's users that are not disabled.
func (db *DB) CountActiveUsers(ctx context.Context, tenantID, partnerID int64) (int64, error) {
	var n int64
	err := db.queryRow(ctx, qUserCountByStatus, tenantID, partnerID).Scan(&n)
	return n, err
}

// UsersWithRole lists the holders of a role.
func (db *DB) UsersWithRole(ctx context.Context, roleID int64) ([]*regulars.User, error) {
	rows, err := db.queryRows(ctx, qUsersByRole, roleID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanUser)
}

// Owner returns the account owner of a partner (0 = tenant staff).
func (db *DB) Owner(ctx context.Context, tenantID, partnerID int64) (*regulars.User, error) {
	u, err := scanUser(db.queryRow(ctx, qUserOwner, tenantID, partnerID))
	return u, notFound(err, "account owner")
}

// UpdateUser saves name, email, phone and role.
func (db *DB) UpdateUser(ctx context.Context, u *regulars.User) error {
	u.UpdatedAt = db.now()
	u.Email = regulars.NormalizeEmail(u.Email)
	_, err := db.exec(ctx, qUserUpdate, strings.TrimSpace(u.Name), u.Email, u.Phone, u.RoleID, ms(u.UpdatedAt), u.ID)
	if db.dialect.isUnique(err) {
		return errEmailTaken
	}
	return err
}

// SetUserStatus changes the status; disabling also ends every session and
// API token use of the user.
func (db *DB) SetUserStatus(ctx context.Context, id int64, status string) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		if _, err := db.exec(ctx, qUserSetStatus, status, ms(db.now()), id); err != nil {
			return err
		}
		if status == regulars.UserDisabled {
			return db.DeleteUserSessions(ctx, id, 0)
		}
		return nil
	})
}

// SetPassword stores a new password hash, activates an invited user and ends
// every session of the user except keepSession (0 = none).
func (db *DB) SetPassword(ctx context.Context, id int64, hash string, keepSession int64) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		now := ms(db.now())
		if _, err := db.exec(ctx, qUserSetPassword, hash, now, now, id); err != nil {
			return err
		}
		return db.DeleteUserSessions(ctx, id, keepSession)
	})
}

// TransferOwnership moves the account-owner role from one user to another
// atomically; the previous owner gets newRoleForOld. When from is no longer
// the owner (a transfer at the same moment won), it is a conflict.
func (db *DB) TransferOwnership(ctx context.Context, from, to *regulars.User, ownerRoleID, newRoleForOld int64) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		var isOwner bool
		if err := db.queryRow(ctx, qUserIsOwner+db.dialect.forUpdate(), from.ID).Scan(&isOwner); err != nil {
			return notFound(err, "user")
		}
		if !isOwner {
			return regulars.Errorf(regulars.ECONFLICT, "You are no longer the Account owner: ownership was transferred meanwhile.")
		}
		now := ms(db.now())
		if _, err := db.exec(ctx, qUserSetOwner, false, newRoleForOld, now, from.ID); err != nil {
			return err
		}
		if _, err := db.exec(ctx, qUserSetOwner, true, ownerRoleID, now, to.ID); err != nil {
			return err
		}
		return nil
	})
}

const roleCols = "r.id, r.tenant_id, COALESCE(r.partner_id, 0), r.name, r.is_owner, r.permissions, r.created_at, (SELECT COUNT(*) FROM users u WHERE u.role_id = r.id)"

var (
	qRoleInsert = query("role_insert", `INSERT INTO roles (tenant_id, partner_id, name, is_owner, permissions, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`)
	qRoleScoped = query("role_scoped", `SELECT `+roleCols+` FROM roles r WHERE r.tenant_id = ? AND COALESCE(r.partner_id, 0) = ? AND r.id = ?`)
	qRoleByID   = query("role_by_id", `SELECT `+roleCols+` FROM roles r WHERE r.id = ?`)
	qRolesList  = query("roles_list", `SELECT `+roleCols+` FROM roles r WHERE r.tenant_id = ? AND COALESCE(r.partner_id, 0) = ? ORDER BY r.is_owner DESC, lower(r.name)`)
	qRoleOwner  = query("role_owner", `SELECT `+roleCols+` FROM roles r WHERE r.tenant_id = ? AND COALESCE(r.partner_id, 0) = ? AND r.is_owner`)
	qRoleUpdate = query("role_update", `UPDATE roles SET name = ?, permissions = ? WHERE id = ? AND NOT is_owner`)
	qRoleDelete = query("role_delete", `DELETE FROM roles WHERE id = ? AND NOT is_owner`)
)

func scanRole(row interface{ Scan(...any) error }) (*regulars.Role, error) {
	var r regulars.Role
	var perms string
	var created int64
	if err := row.Scan(&r.ID, &r.TenantID, &r.PartnerID, &r.Name, &r.IsOwner, &perms, &created, &r.UserCount); err != nil {
		return nil, err
	}
	r.CreatedAt = fromMS(created)
	p, err := regulars.DecodePermissions(perms)
	if err != nil {
		return nil, err
	}
	r.Permissions = p
	return &r, nil
}

func roleNameTaken() error {
	return &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"name": "A role with this name already exists."}}
}

// CreateRole adds a role.
func (db *DB) CreateRole(ctx context.Context, r *regulars.Role) error {
	r.CreatedAt = db.now()
	id, err := db.insert(ctx, qRoleInsert, r.TenantID, nullID(r.PartnerID), strings.TrimSpace(r.Name), r.IsOwner, regulars.EncodePermissions(r.Permissions), ms(r.CreatedAt))
	if db.dialect.isUnique(err) {
		return roleNameTaken()
	}
	r.ID = id
	return err
}

// Role returns a role of the tenant and partner (0 = tenant staff).
func (db *DB) Role(ctx context.Context, tenantID, partnerID, id int64) (*regulars.Role, error) {
	r, err := scanRole(db.queryRow(ctx, qRoleScoped, tenantID, partnerID, id))
	return r, notFound(err, "role")
}

// RoleByID returns a role unscoped: for the signed-in user's own role.
func (db *DB) RoleByID(ctx context.Context, id int64) (*regulars.Role, error) {
	r, err := scanRole(db.queryRow(ctx, qRoleByID, id))
	return r, notFound(err, "role")
}

// Roles lists the roles of a partner, the owner role first.
func (db *DB) Roles(ctx context.Context, tenantID, partnerID int64) ([]*regulars.Role, error) {
	rows, err := db.queryRows(ctx, qRolesList, tenantID, partnerID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanRole)
}

// OwnerRole returns the built-in account owner role.
func (db *DB) OwnerRole(ctx context.Context, tenantID, partnerID int64) (*regulars.Role, error) {
	r, err := scanRole(db.queryRow(ctx, qRoleOwner, tenantID, partnerID))
	return r, notFound(err, "owner role")
}

// UpdateRole saves a custom role's name and permissions.
func (db *DB) UpdateRole(ctx context.Context, r *regulars.Role) error {
	res, err := db.exec(ctx, qRoleUpdate, strings.TrimSpace(r.Name), regulars.EncodePermissions(r.Permissions), r.ID)
	if db.dialect.isUnique(err) {
		return roleNameTaken()
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return regulars.Errorf(regulars.ECONFLICT, "The Account owner role cannot be edited.")
	}
	return nil
}

// DeleteRole removes an unused custom role; a role in use is refused with
// its holders in the error's Detail.
func (db *DB) DeleteRole(ctx context.Context, r *regulars.Role) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		holders, err := db.UsersWithRole(ctx, r.ID)
		if err != nil {
			return err
		}
		if len(holders) > 0 {
			names := make([]string, len(holders))
			for i, u := range holders {
				names[i] = u.Name
			}
			return &regulars.Error{Code: regulars.ECONFLICT, Message: "This role is in use by " + strings.Join(names, ", ") + ". Give them another role first.", Detail: holders}
		}
		res, err := db.exec(ctx, qRoleDelete, r.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return regulars.Errorf(regulars.ECONFLICT, "The Account owner role cannot be deleted.")
		}
		return nil
	})
}

var (
	qSessionInsert     = query("session_insert", `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, user_agent, ip) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`)
	qSessionByHash     = query("session_by_hash", `SELECT id, user_id, created_at, last_seen_at, expires_at, user_agent, ip FROM sessions WHERE token_hash = ?`)
	qSessionsOfUser    = query("sessions_of_user", `SELECT id, user_id, created_at, last_seen_at, expires_at, user_agent, ip FROM sessions WHERE user_id = ? ORDER BY last_seen_at DESC`)
	qSessionTouch      = query("session_touch", `UPDATE sessions SET last_seen_at = ? WHERE id = ?`)
	qSessionDelete     = query("session_delete", `DELETE FROM sessions WHERE id = ?`)
	qSessionDeleteUser = query("session_delete_user", `DELETE FROM sessions WHERE user_id = ? AND id <> ?`)
	qSessionPurge      = query("session_purge", `DELETE FROM sessions WHERE expires_at < ? OR last_seen_at < ?`)
)

func scanSession(row interface{ Scan(...any) error }) (*regulars.Session, error) {
	var s regulars.Session
	var created, seen, expires int64
	if err := row.Scan(&s.ID, &s.UserID, &created, &seen, &expires, &s.UserAgent, &s.IP); err != nil {
		return nil, err
	}
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMS(created), fromMS(seen), fromMS(expires)
	return &s, nil
}

// CreateSession stores a session under the hash of its secret.
func (db *DB) CreateSession(ctx context.Context, tokenHash string, s *regulars.Session) error {
	id, err := db.insert(ctx, qSessionInsert, tokenHash, s.UserID, ms(s.CreatedAt), ms(s.LastSeenAt), ms(s.ExpiresAt), s.UserAgent, s.IP)
	s.ID = id
	return err
}

// SessionByHash finds a session by the hash of its secret.
func (db *DB) SessionByHash(ctx context.Context, tokenHash string) (*regulars.Session, error) {
	s, err := scanSession(db.queryRow(ctx, qSessionByHash, tokenHash))
	return s, notFound(err, "session")
}

// Sessions lists a user's sessions, most recent first.
func (db *DB) Sessions(ctx context.Context, userID int64) ([]*regulars.Session, error) {
	rows, err := db.queryRows(ctx, qSessionsOfUser, userID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanSession)
}

// TouchSession records activity.
func (db *DB) TouchSession(ctx context.Context, id int64, at time.Time) error {
	_, err := db.exec(ctx, qSessionTouch, ms(at), id)
	return err
}

// DeleteSession ends one session.
func (db *DB) DeleteSession(ctx context.Context, id int64) error {
	_, err := db.exec(ctx, qSessionDelete, id)
	return err
}

// DeleteUserSessions ends every session of a user but keep (0 = all).
func (db *DB) DeleteUserSessions(ctx context.Context, userID, keep int64) error {
	_, err := db.exec(ctx, qSessionDeleteUser, userID, keep)
	return err
}

// PurgeSessions deletes sessions past their absolute or idle expiry.
func (db *DB) PurgeSessions(ctx context.Context, now time.Time, idle time.Duration) error {
	_, err := db.exec(ctx, qSessionPurge, ms(now), ms(now.Add(-idle)))
	return err
}

var (
	qTokenSupersede = query("token_supersede", `UPDATE user_tokens SET used_at = ? WHERE user_id = ? AND purpose = ? AND used_at = 0`)
	qTokenInsert    = query("token_insert", `INSERT INTO user_tokens (token_hash, user_id, purpose, created_at, expires_at) VALUES (?, ?, ?, ?, ?) RETURNING id`)
	qTokenUse       = query("token_use", `UPDATE user_tokens SET used_at = ? WHERE token_hash = ? AND used_at = 0 AND expires_at > ? RETURNING user_id, purpose`)
	qTokenPeek      = query("token_peek", `SELECT user_id, purpose FROM user_tokens WHERE token_hash = ? AND used_at = 0 AND expires_at > ?`)
)

// CreateUserToken stores a single-use token for a purpose and supersedes the
// user's earlier unused tokens of that purpose.
func (db *DB) CreateUserToken(ctx context.Context, userID int64, purpose, tokenHash string, ttl time.Duration) error {
	return db.InTx(ctx, func(ctx context.Context) error {
		now := db.now()
		if _, err := db.exec(ctx, qTokenSupersede, ms(now), userID, purpose); err != nil {
			return err
		}
		_, err := db.insert(ctx, qTokenInsert, tokenHash, userID, purpose, ms(now), ms(now.Add(ttl)))
		return err
	})
}

var errBadLink = regulars.Errorf(regulars.ENOTFOUND, "This link is invalid, was already used or has expired. Ask for a new one.")

// PeekUserToken checks a token without using it (to show the form).
func (db *DB) PeekUserToken(ctx context.Context, tokenHash string) (userID int64, purpose string, err error) {
	err = db.queryRow(ctx, qTokenPeek, tokenHash, ms(db.now())).Scan(&userID, &purpose)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", errBadLink
	}
	return userID, purpose, err
}

// UseUserToken marks a token used and returns its user; a token works once.
func (db *DB) UseUserToken(ctx context.Context, tokenHash string) (userID int64, purpose string, err error) {
	now := ms(db.now())
	err = db.writer(ctx).QueryRowContext(ctx, db.dialect.rebind(qTokenUse), now, tokenHash, now).Scan(&userID, &purpose)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", errBadLink
	}
	return userID, purpose, err
}

var (
	qAPITokenInsert = query("api_token_insert", `INSERT INTO api_tokens (user_id, name, prefix, token_hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`)
	qAPITokenByHash = query("api_token_by_hash", `SELECT id, user_id, last_used_at FROM api_tokens WHERE token_hash = ?`)
	qAPITokensList  = query("api_tokens_list", `SELECT id, user_id, name, prefix, created_at, last_used_at FROM api_tokens WHERE user_id = ? ORDER BY id DESC`)
	qAPITokenTouch  = query("api_token_touch", `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`)
	qAPITokenDelete = query("api_token_delete", `DELETE FROM api_tokens WHERE user_id = ? AND id = ?`)
)

// CreateAPIToken stores a personal access token's hash.
func (db *DB) CreateAPIToken(ctx context.Context, t *regulars.APIToken, tokenHash string) error {
	t.CreatedAt = db.now()
	id, err := db.insert(ctx, qAPITokenInsert, t.UserID, t.Name, t.Prefix, tokenHash, ms(t.CreatedAt))
	t.ID = id
	return err
}

// APITokenByHash finds a token; it returns the token id, user id and when
// it was last used.
func (db *DB) APITokenByHash(ctx context.Context, tokenHash string) (id, userID int64, lastUsed time.Time, err error) {
	var used int64
	err = db.queryRow(ctx, qAPITokenByHash, tokenHash).Scan(&id, &userID, &used)
	return id, userID, fromMS(used), notFound(err, "token")
}

// TouchAPIToken records use of a token.
func (db *DB) TouchAPIToken(ctx context.Context, id int64) error {
	_, err := db.exec(ctx, qAPITokenTouch, ms(db.now()), id)
	return err
}

// APITokens lists a user's tokens.
func (db *DB) APITokens(ctx context.Context, userID int64) ([]*regulars.APIToken, error) {
	rows, err := db.queryRows(ctx, qAPITokensList, userID)
	if err != nil {
		return nil, err
	}
	return collect(rows, func(row interface{ Scan(...any) error }) (*regulars.APIToken, error) {
		var t regulars.APIToken
		var created, used int64
		if err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &created, &used); err != nil {
			return nil, err
		}
		t.CreatedAt, t.LastUsedAt = fromMS(created), fromMS(used)
		return &t, nil
	})
}

// DeleteAPIToken revokes one of the user's tokens.
func (db *DB) DeleteAPIToken(ctx context.Context, userID, id int64) error {
	res, err := db.exec(ctx, qAPITokenDelete, userID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return regulars.ErrNotFound("token")
	}
	return nil
}

var (
	qFailureInsert = query("login_failure_insert", `INSERT INTO login_failures (key, at) VALUES (?, ?)`)
	qFailureCount  = query("login_failure_count", `SELECT COUNT(*) FROM login_failures WHERE key = ? AND at > ?`)
	qFailureClear  = query("login_failure_clear", `DELETE FROM login_failures WHERE key = ?`)
	qFailurePurge  = query("login_failure_purge", `DELETE FROM login_failures WHERE at < ?`)
)

// RecordLoginFailure notes a failed sign-in under each key.
func (db *DB) RecordLoginFailure(ctx context.Context, keys ...string) error {
	now := ms(db.now())
	for _, k := range keys {
		if _, err := db.exec(ctx, qFailureInsert, k, now); err != nil {
			return err
		}
	}
	return nil
}

// LoginFailures counts a key's failures since a time.
func (db *DB) LoginFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	err := db.queryRow(ctx, qFailureCount, key, ms(since)).Scan(&n)
	return n, err
}

// ClearLoginFailures forgets a key's failures after a successful sign-in.
func (db *DB) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := db.exec(ctx, qFailureClear, key)
	return err
}

// PurgeLoginFailures forgets failures older than a time.
func (db *DB) PurgeLoginFailures(ctx context.Context, before time.Time) error {
	_, err := db.exec(ctx, qFailurePurge, ms(before))
	return err
}
