package regulars

import "time"

// CustomList is a partner's uploaded list of followers ("custom end-user
// list"). Its members are the rows of its current generation: an upload
// writes a new generation beside the current one and switches over in one
// step, so a failed or cancelled upload leaves the list exactly as it was.
type CustomList struct {
	ID          int64
	TenantID    int64
	PartnerID   int64
	Name        string
	Generation  int64 // the upload whose rows are the members (0 = empty)
	MemberCount int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// Filled by list queries.
	SegmentationCount int
}

// How an upload identifies followers.
const (
	MatchEndUserID = "end_user_id"
	MatchEmail     = "email"
	MatchPhone     = "phone"
)

// MatchLabel names an identifier column for people.
func MatchLabel(by string) string {
	switch by {
	case MatchEndUserID:
		return "end-user ID"
	case MatchEmail:
		return "email"
	case MatchPhone:
		return "phone"
	}
	return by
}

// Upload modes.
const (
	UploadReplace = "replace"
	UploadAppend  = "append"
)

// Upload states: running → done | failed | cancelled.
const (
	UploadRunning   = "running"
	UploadDone      = "done"
	UploadFailed    = "failed"
	UploadCancelled = "cancelled"
)

// ListUpload is one upload of a file into a list, with its report.
type ListUpload struct {
	ID        int64
	TenantID  int64
	PartnerID int64
	ListID    int64
	UserID    int64
	FileName  string
	FileSize  int64
	Mode      string // replace or append
	MatchBy   string // end_user_id, email or phone
	State     string
	Error     string // why it failed

	Rows       int64 // data rows read (the header not counted)
	Matched    int64 // rows that named a follower, once each
	Duplicates int64 // rows naming a follower an earlier row (or, appending, the list) already has
	Unknown    int64 // well-formed identifiers that are no follower of the partner
	Invalid    int64 // malformed rows
	Members    int64 // members of the list after the upload

	CreatedAt  time.Time
	UpdatedAt  time.Time // heartbeat while running
	FinishedAt time.Time
}

// Rejected counts the rows that did not become members.
func (u *ListUpload) Rejected() int64 { return u.Duplicates + u.Unknown + u.Invalid }

// Finished reports whether the upload stopped, one way or another.
func (u *ListUpload) Finished() bool { return u.State != UploadRunning }

// Rejection reasons of upload rows.
const (
	RejectDuplicate = "duplicate"
	RejectUnknown   = "unknown"
	RejectInvalid   = "invalid"
)

// RejectedRow is a row of an upload that did not become a member.
type RejectedRow struct {
	Line   int64 // line number in the file, the header being line 1
	Value  string
	Reason string // duplicate, unknown or invalid
	Detail string // a sentence for people
}
