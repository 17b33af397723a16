package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"regulars"
	"regulars/app"
	"regulars/httpx"
)

// Codes of problems the API finds before the domain is called.
const (
	codeBadRequest       = "bad_request"        // malformed, oversized or unknown-field body
	codeMethodNotAllowed = "method_not_allowed" // known path, other method
)

// statusOf maps error codes to HTTP statuses. Anything else is internal.
var statusOf = map[string]int{
	regulars.ENOTFOUND:     http.StatusNotFound,
	regulars.EINVALID:      http.StatusUnprocessableEntity,
	regulars.ECONFLICT:     http.StatusConflict,
	regulars.EFORBIDDEN:    http.StatusForbidden,
	regulars.EUNAUTHORIZED: http.StatusUnauthorized,
	regulars.ETOOMANY:      http.StatusTooManyRequests,
	regulars.ELIMIT:        http.StatusConflict,
	regulars.EINTERNAL:     http.StatusInternalServerError,
	codeBadRequest:         http.StatusBadRequest,
	codeMethodNotAllowed:   http.StatusMethodNotAllowed,
}

// ProblemCode tells problems with the same status apart (e.g. conflict and
// limit_reached are both 409).
type ProblemCode string

// Enum lists the codes for the OpenAPI document.
func (ProblemCode) Enum() []string {
	return []string{regulars.ENOTFOUND, regulars.EINVALID, regulars.ECONFLICT, regulars.EFORBIDDEN,
		regulars.EUNAUTHORIZED, regulars.ETOOMANY, regulars.ELIMIT, regulars.EINTERNAL, codeBadRequest, codeMethodNotAllowed}
}

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type   string      `json:"type" doc:"always about:blank; code tells problems apart"`
	Title  string      `json:"title" doc:"the HTTP status text"`
	Status int         `json:"status"`
	Detail string      `json:"detail" doc:"what happened, for people"`
	Code   ProblemCode `json:"code"`
	// Errors holds a message per request field (dotted for nested fields,
	// e.g. permissions.chat).
	Errors map[string]string `json:"errors,omitempty" doc:"a message per invalid request field, e.g. permissions.chat"`
	// Holders are the users that keep a role from being deleted.
	Holders []UserRef `json:"holders,omitempty" doc:"the users that hold a role that cannot be deleted"`
	// Owner is the agent who owns a conversation another agent tried to
	// answer or take: send again with overtake_from set to its id to take
	// it over.
	Owner *UserRef `json:"owner,omitempty" doc:"chat: the agent who owns the conversation; confirm the overtake with overtake_from = owner.id"`
}

// internalDetail is all a caller learns about a bug or an outage.
const internalDetail = "Something went wrong on our side. Please try again."

// fail writes err as a problem. It is the only place that turns errors into
// API responses.
func (x *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := regulars.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		code, status = regulars.EINTERNAL, http.StatusInternalServerError
	}
	p := Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: ProblemCode(code), Detail: regulars.ErrorMessage(err)}
	if status == http.StatusInternalServerError {
		p.Detail = internalDetail
		x.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "ip", httpx.ClientIP(r, x.trustProxy), "err", err)
	}
	if fields := regulars.FieldErrors(err); len(fields) > 0 {
		p.Errors = make(map[string]string, len(fields))
		for k, v := range fields {
			p.Errors[jsonField(k)] = v
		}
	}
	var e *regulars.Error
	if errors.As(err, &e) {
		if oc, ok := e.Detail.(app.OwnerConflict); ok {
			p.Owner = &UserRef{ID: oc.OwnerID, Name: oc.OwnerName}
		}
		if users, ok := e.Detail.([]*regulars.User); ok {
			for _, u := range users {
				p.Holders = append(p.Holders, UserRef{ID: u.ID, Name: u.Name})
			}
		}
	}
	if status == http.StatusUnauthorized {
		challenge := `Bearer realm="regulars"`
		if httpx.BearerToken(r) != "" {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	body, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}

// jsonField turns a field name of the domain's validation (shared with the
// HTML forms) into the name of the JSON member the API client sent.
func jsonField(field string) string {
	switch {
	case field == "role":
		return "role_id"
	case strings.HasPrefix(field, "perm."):
		return "permissions." + strings.TrimPrefix(field, "perm.")
	}
	return field
}
