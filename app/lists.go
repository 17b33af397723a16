package app

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"regulars"
	"regulars/store"
)

// MaxListUploadBytes is the largest file a list upload accepts: about two
// million email addresses.
const MaxListUploadBytes = 64 << 20

// MaxListName bounds a list's name.
const MaxListName = 80

// Lists lists the partner's custom end-user lists.
func (a *App) Lists(ctx context.Context, actor *Actor) ([]*regulars.CustomList, error) {
	if err := actor.Require(regulars.FeatureCustomLists, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.Lists(ctx, actor.PartnerID())
}

// List returns one of the partner's lists.
func (a *App) List(ctx context.Context, actor *Actor, id int64) (*regulars.CustomList, error) {
	if err := actor.Require(regulars.FeatureCustomLists, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.List(ctx, actor.PartnerID(), id)
}

func checkListName(name string) (string, error) {
	name = strings.TrimSpace(name)
	v := regulars.Validation{}
	regulars.CheckName(v, "name", name, MaxListName)
	return name, v.Err()
}

// CreateList adds an empty list; uploads fill it.
func (a *App) CreateList(ctx context.Context, actor *Actor, name string) (*regulars.CustomList, error) {
	if err := actor.Require(regulars.FeatureCustomLists, regulars.LevelManage); err != nil {
		return nil, err
	}
	name, err := checkListName(name)
	if err != nil {
		return nil, err
	}
	l := &regulars.CustomList{TenantID: actor.User.TenantID, PartnerID: actor.PartnerID(), Name: name}
	if err := a.DB.CreateList(ctx, l); err != nil {
		return nil, err
	}
	return l, nil
}

// RenameList renames a list (segmentations that use it keep using it).
func (a *App) RenameList(ctx context.Context, actor *Actor, id int64, name string) (*regulars.CustomList, error) {
	if err := actor.Require(regulars.FeatureCustomLists, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	l, err := a.DB.List(ctx, actor.PartnerID(), id)
	if err != nil {
		return nil, err
	}
	if l.Name, err = checkListName(name); err != nil {
		return nil, err
	}
	return l, a.DB.RenameList(ctx, l)
}

// ListUsers lists the segmentations that use a list.
func (a *App) ListUsers(ctx context.Context, actor *Actor, l *regulars.CustomList) ([]*regulars.Segmentation, error) {
	if err := actor.Require(regulars.FeatureCustomLists, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.SegmentationsUsing(ctx, actor.PartnerID(), "list", l.ID)
}

// DeleteList deletes a list no segmentation uses; the refusal names the
// segmentations that do. A running upload is cancelled with it.
func (a *App) DeleteList(ctx context.Context, actor *Actor, id int64) error {
	if err := actor.Require(regulars.FeatureCustomLists, regulars.LevelManage); err != nil {
		return err
	}
	l, err := a.DB.List(ctx, actor.PartnerID(), id)
	if err != nil {
		return err
	}
	users, err := a.DB.SegmentationsUsing(ctx, actor.PartnerID(), "list", l.ID)
	if err != nil {
		return err
	}
	if len(users) > 0 {
		names := make([]string, len(users))
		for i, s := range users {
			names[i] = s.Name
		}
		return &regulars.Error{Code: regulars.ECONFLICT, Detail: users,
			Message: fmt.Sprintf("The list %s is used by the segmentation%s %s. Remove it from %s first.", l.Name, map[bool]string{true: "", false: "s"}[len(names) == 1], strings.Join(names, ", "), map[bool]string{true: "it", false: "them"}[len(names) == 1])}
	}
	if u, err := a.DB.RunningUpload(ctx, l.ID); err == nil {
		if _, err := a.DB.CancelUpload(ctx, actor.PartnerID(), u.ID); err != nil {
			return err
		}
	}
	return a.DB.DeleteList(ctx, l)
}

// Uploads lists a list's latest uploads.
func (a *App) Uploads(ctx context.Context, actor *Actor, l *regulars.CustomList) ([]*regulars.ListUpload, error) {
	if err := actor.Require(regulars.FeatureCustomLists, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.Uploads(ctx, l.ID, 20)
}

// Upload returns one of the partner's uploads.
func (a *App) Upload(ctx context.Context, actor *Actor, id int64) (*regulars.ListUpload, error) {
	if err := actor.Require(regulars.FeatureCustomLists, regulars.LevelView); err != nil {
		return nil, err
	}
	return a.DB.Upload(ctx, actor.PartnerID(), id)
}

// CancelUpload asks a running upload to stop; the list stays as it was.
func (a *App) CancelUpload(ctx context.Context, actor *Actor, id int64) (*regulars.ListUpload, error) {
	if err := actor.Require(regulars.FeatureCustomLists, regulars.LevelUpdate); err != nil {
		return nil, err
	}
	u, err := a.DB.Upload(ctx, actor.PartnerID(), id)
	if err != nil {
		return nil, err
	}
	ok, err := a.DB.CancelUpload(ctx, actor.PartnerID(), id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, regulars.Errorf(regulars.ECONFLICT, "This upload has already finished.")
	}
	return u, nil
}

// Rejects calls fn with every rejected row of an upload, in line order.
func (a *App) Rejects(ctx context.Context, actor *Actor, u *regulars.ListUpload, fn func([]regulars.RejectedRow) error) error {
	if err := actor.Require(regulars.FeatureCustomLists, regulars.LevelView); err != nil {
		return err
	}
	var after int64
	for {
		rows, err := a.DB.Rejects(ctx, u.ID, after, 5000)
		if err != nil || len(rows) == 0 {
			return err
		}
		if err := fn(rows); err != nil {
			return err
		}
		after = rows[len(rows)-1].Line
	}
}

// UploadInput is a file to load into a list.
type UploadInput struct {
	ListID   int64
	Mode     string // replace or append
	MatchBy  string // end_user_id, email, phone, or "" to take it from the header
	FileName string
	File     io.ReadSeeker
	Size     int64
}

// uploadFile is a checked file: the identifier column and the CSV dialect.
type uploadFile struct {
	matchBy string
	column  int
	comma   rune
	header  []string
}

// headerNames maps normalised header names to identifier kinds.
var headerNames = map[string]string{
	"enduserid": regulars.MatchEndUserID, "euid": regulars.MatchEndUserID, "userid": regulars.MatchEndUserID, "enduser": regulars.MatchEndUserID,
	"email": regulars.MatchEmail, "emailaddress": regulars.MatchEmail, "mail": regulars.MatchEmail,
	"phone": regulars.MatchPhone, "phonenumber": regulars.MatchPhone, "mobile": regulars.MatchPhone, "mobilephone": regulars.MatchPhone,
	"mobilenumber": regulars.MatchPhone, "telephone": regulars.MatchPhone, "tel": regulars.MatchPhone, "msisdn": regulars.MatchPhone,
}

func normalHeader(s string) string {
	return strings.NewReplacer(" ", "", "_", "", "-", "", ".", "").Replace(strings.ToLower(strings.TrimSpace(s)))
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// checkUploadFile refuses what is not a CSV or text file with a header
// naming the identifier column, before anything is written.
func checkUploadFile(in *UploadInput) (*uploadFile, error) {
	fail := func(msg string) error {
		return &regulars.Error{Code: regulars.EINVALID, Message: msg, Fields: map[string]string{"file": msg}}
	}
	switch in.Mode {
	case regulars.UploadReplace, regulars.UploadAppend:
	default:
		return nil, &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"mode": "Choose replace or append."}}
	}
	switch in.MatchBy {
	case "", regulars.MatchEndUserID, regulars.MatchEmail, regulars.MatchPhone:
	default:
		return nil, &regulars.Error{Code: regulars.EINVALID, Message: "Please correct the highlighted fields.", Fields: map[string]string{"match_by": "Choose end-user ID, email or phone."}}
	}
	if in.File == nil {
		return nil, fail("Choose a file to upload.")
	}
	if in.Size > MaxListUploadBytes {
		return nil, fail(fmt.Sprintf("The file is larger than %d MB. Split it into smaller files and append them.", MaxListUploadBytes>>20))
	}
	ext := strings.ToLower(in.FileName[strings.LastIndexByte(in.FileName, '.')+1:])
	if !strings.Contains(in.FileName, ".") {
		ext = ""
	}
	switch ext {
	case "", "csv", "txt", "tsv", "text":
	case "xlsx", "xls", "ods", "numbers":
		return nil, fail("This is a spreadsheet file. Save it as CSV (comma-separated values) and upload that.")
	default:
		return nil, fail("Upload a CSV or plain text file (.csv or .txt); ." + ext + " files are not lists.")
	}
	head := make([]byte, 8192)
	n, err := io.ReadFull(in.File, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	head = head[:n]
	if _, err := in.File.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(bytes.TrimPrefix(head, utf8BOM))) == 0 {
		return nil, fail("The file is empty.")
	}
	ct := http.DetectContentType(head)
	switch {
	case strings.Contains(ct, "utf-16"):
		return nil, fail("This file is saved as UTF-16 text. Save it as CSV UTF-8 (comma-separated values) and upload that.")
	case !strings.HasPrefix(ct, "text/") || bytes.IndexByte(head, 0) >= 0:
		return nil, fail("This file is not a CSV or text file (it looks like " + strings.Split(ct, ";")[0] + ").")
	}
	// The header is the first line.
	line, _, _ := bytes.Cut(bytes.TrimPrefix(head, utf8BOM), []byte("\n"))
	line = bytes.TrimRight(line, "\r")
	comma := ','
	best := bytes.Count(line, []byte(","))
	for _, c := range []rune{';', '\t'} {
		if k := bytes.Count(line, []byte(string(c))); k > best {
			comma, best = c, k
		}
	}
	r := csv.NewReader(bytes.NewReader(line))
	r.Comma, r.LazyQuotes, r.FieldsPerRecord = comma, true, -1
	header, err := r.Read()
	if err != nil || len(header) == 0 {
		return nil, fail("The first line must name the identifier column: end_user_id, email or phone.")
	}
	f := &uploadFile{comma: comma, header: header, column: -1}
	var found []string
	for i, h := range header {
		kind := headerNames[normalHeader(h)]
		if kind == "" {
			continue
		}
		found = append(found, kind)
		if (in.MatchBy == "" || in.MatchBy == kind) && f.column < 0 {
			f.column, f.matchBy = i, kind
		}
	}
	switch {
	case len(found) == 0:
		return nil, fail(fmt.Sprintf("The first line must name the identifier column: end_user_id, email or phone (it reads %q).", strings.Join(header, string(comma))))
	case in.MatchBy != "" && f.column < 0:
		return nil, fail(fmt.Sprintf("The file has no %s column; its header names %s.", regulars.MatchLabel(in.MatchBy), strings.Join(header, ", ")))
	case in.MatchBy == "" && len(found) > 1:
		return nil, &regulars.Error{Code: regulars.EINVALID, Message: "The header names several identifier columns; choose which one to match followers by.",
			Fields: map[string]string{"match_by": "The header names several identifier columns (" + strings.Join(found, ", ") + "); choose one."}}
	}
	return f, nil
}

// validEndUserID reports whether a normalised end-user ID has only
// capital letters, digits and underscores, 1 to 64 of them.
func validEndUserID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// normalEndUserID is NormalizeEndUserID without its allocations for the
// usual ASCII case: a million rows go through it.
func normalEndUserID(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c == ' ' || c == '-' || (c >= 'a' && c <= 'z') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return NormalizeEndUserID(s)
		}
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '-':
		case c >= 'a' && c <= 'z':
			b = append(b, c-'a'+'A')
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// normaliseIdentifier returns the key a value is matched on, or a reason
// it is invalid.
func normaliseIdentifier(by, raw string) (key, problem string) {
	v := strings.TrimSpace(raw)
	if v == "" {
		return "", "The " + regulars.MatchLabel(by) + " is empty."
	}
	if !utf8.ValidString(v) {
		return "", "The value is not valid UTF-8 text."
	}
	switch by {
	case regulars.MatchEndUserID:
		v = normalEndUserID(v)
		if !validEndUserID(v) {
			return "", "An end-user ID has only letters and digits."
		}
	case regulars.MatchEmail:
		v = regulars.NormalizeEmail(v)
		if !regulars.ValidEmail(v) {
			return "", "Not an email address like name@example.com."
		}
	case regulars.MatchPhone:
		if !regulars.ValidPhone(v) {
			return "", "Not a phone number (7 to 15 digits, e.g. +44 20 7946 0958)."
		}
		v = store.PhoneKey(v)
	}
	return v, ""
}

// StartUpload checks a file and loads it into a list in the background;
// the upload's progress and report are read with Upload. A failed or
// cancelled upload leaves the list exactly as it was. The file is read
// until the upload ends; done (if not nil) is called then.
func (a *App) StartUpload(ctx context.Context, actor *Actor, in UploadInput, done func()) (*regulars.ListUpload, error) {
	l, u, f, err := a.prepareUpload(ctx, actor, &in)
	if err != nil {
		return nil, err
	}
	go func() {
		if done != nil {
			defer done()
		}
		a.runUpload(context.WithoutCancel(ctx), l, u, f, in.File)
	}()
	return u, nil
}

// ImportList loads a file into a list and returns the finished upload (done,
// failed or cancelled) with its report.
func (a *App) ImportList(ctx context.Context, actor *Actor, in UploadInput) (*regulars.ListUpload, error) {
	l, u, f, err := a.prepareUpload(ctx, actor, &in)
	if err != nil {
		return nil, err
	}
	a.runUpload(ctx, l, u, f, in.File)
	return a.DB.Upload(ctx, actor.PartnerID(), u.ID)
}

func (a *App) prepareUpload(ctx context.Context, actor *Actor, in *UploadInput) (*regulars.CustomList, *regulars.ListUpload, *uploadFile, error) {
	if err := actor.Require(regulars.FeatureCustomLists, regulars.LevelUpdate); err != nil {
		return nil, nil, nil, err
	}
	l, err := a.DB.List(ctx, actor.PartnerID(), in.ListID)
	if err != nil {
		return nil, nil, nil, err
	}
	f, err := checkUploadFile(in)
	if err != nil {
		return nil, nil, nil, err
	}
	u := &regulars.ListUpload{TenantID: l.TenantID, PartnerID: l.PartnerID, ListID: l.ID, UserID: actor.User.ID, FileName: in.FileName, FileSize: in.Size, Mode: in.Mode, MatchBy: f.matchBy}
	if err := a.DB.CreateUpload(ctx, u); err != nil {
		return nil, nil, nil, err
	}
	return l, u, f, nil
}

// resolveBatch is how many identifiers are resolved at a time (in key
// order, so that the index is read front to back); progress is saved and
// cancellation checked after each batch.
const resolveBatch = 5000

// importer loads one file into a new generation of a list.
type importer struct {
	a    *App
	l    *regulars.CustomList
	u    *regulars.ListUpload
	f    *uploadFile
	rows []pendingRow // well-formed rows
	// existing holds the list's members when appending, sorted.
	existing []int64
	rejects  []regulars.RejectedRow
}

type pendingRow struct {
	line     int64
	raw, key string // raw is "" when it equals key
	id       int64  // the follower; 0 unknown, -n: n followers share it
}

var errCancelled = errors.New("cancelled")

// runUpload reads the file into a new generation of the list and switches
// the list over only when everything went well.
func (a *App) runUpload(ctx context.Context, l *regulars.CustomList, u *regulars.ListUpload, f *uploadFile, file io.Reader) {
	err := a.importFile(ctx, l, u, f, file)
	state, reason := regulars.UploadDone, ""
	switch {
	case errors.Is(err, errCancelled):
		state, reason = regulars.UploadCancelled, "Cancelled: the list was left as it was."
	case err != nil:
		state, reason = regulars.UploadFailed, regulars.ErrorMessage(err)
		if regulars.ErrorCode(err) == regulars.EINTERNAL {
			a.Log.Error("list upload failed", "upload", u.ID, "err", err)
			reason = "The upload failed on our side; the list was left as it was. Please try again."
		}
	}
	ctx = context.WithoutCancel(ctx)
	if state != regulars.UploadDone {
		if derr := a.DB.DiscardGeneration(ctx, l.ID, u.ID); derr != nil {
			a.Log.Error("list upload: discarding rows", "upload", u.ID, "err", derr)
		}
		u.Members = l.MemberCount
	}
	if _, ferr := a.DB.FinishUpload(ctx, u, state, reason); ferr != nil {
		a.Log.Error("list upload: finishing", "upload", u.ID, "err", ferr)
	}
}

// importFile works in steps: read and check every row; sort the rows by
// identifier, which finds the repeats and lets the identifiers be resolved
// front to back along the index; resolve them to the partner's followers;
// decide each row; write the new members in id order (as fast as a raw
// insert); switch the list over. Nothing of the list changes before the
// switch.
func (a *App) importFile(ctx context.Context, l *regulars.CustomList, u *regulars.ListUpload, f *uploadFile, file io.Reader) error {
	im := &importer{a: a, l: l, u: u, f: f}
	if err := im.read(ctx, file); err != nil {
		return err
	}
	if u.Rows == 0 {
		return regulars.Errorf(regulars.EINVALID, "The file has no rows after the header line.")
	}
	// By identifier, then line: the first of equal identifiers is kept.
	slices.SortFunc(im.rows, func(x, y pendingRow) int {
		if c := strings.Compare(x.key, y.key); c != 0 {
			return c
		}
		return cmp.Compare(x.line, y.line)
	})
	rows := im.rows[:0]
	for i, p := range im.rows {
		if i > 0 && p.key == im.rows[i-1].key {
			first := rows[len(rows)-1].line
			im.reject(p.line, p.value(), regulars.RejectDuplicate, fmt.Sprintf("Already on line %d.", first))
			continue
		}
		rows = append(rows, p)
	}
	im.rows = rows
	if err := im.resolve(ctx); err != nil {
		return err
	}
	if u.Mode == regulars.UploadAppend && l.Generation != 0 {
		var after int64
		for {
			ids, err := a.DB.GenerationMemberIDs(ctx, l.ID, l.Generation, after, 50000)
			if err != nil {
				return err
			}
			im.existing = append(im.existing, ids...)
			if len(ids) < 50000 {
				break
			}
			after = ids[len(ids)-1]
		}
	}
	// Distinct identifiers name distinct followers (end-user IDs and
	// emails are unique, a shared phone number is refused), so a follower
	// comes at most once from here.
	members := make([]int64, 0, len(im.rows))
	for _, p := range im.rows {
		switch {
		case p.id == 0:
			im.reject(p.line, p.value(), regulars.RejectUnknown, "No follower of yours has this "+regulars.MatchLabel(u.MatchBy)+".")
		case p.id < 0:
			im.reject(p.line, p.value(), regulars.RejectInvalid, fmt.Sprintf("%d of your followers share this phone number; identify them by end-user ID or email.", -p.id))
		default:
			if _, in := slices.BinarySearch(im.existing, p.id); in {
				im.reject(p.line, p.value(), regulars.RejectDuplicate, "Already in the list.")
				continue
			}
			u.Matched++
			members = append(members, p.id)
		}
		if len(im.rejects) >= 5000 {
			if err := im.saveRejects(ctx); err != nil {
				return err
			}
		}
	}
	im.rows = nil
	if err := im.saveRejects(ctx); err != nil {
		return err
	}
	if err := im.progress(ctx); err != nil {
		return err
	}
	slices.Sort(members)
	w, err := a.DB.NewMemberWriter(ctx, l.ID, u.ID)
	if err != nil {
		return err
	}
	defer w.Close()
	for start := 0; start < len(members); start += 100000 {
		if err := w.Add(ctx, members[start:min(start+100000, len(members))]...); err != nil {
			return err
		}
		if err := w.Flush(ctx); err != nil {
			return err
		}
		if err := im.progress(ctx); err != nil {
			return err
		}
	}
	total := w.Written()
	if u.Mode == regulars.UploadAppend && l.Generation != 0 {
		n, err := a.DB.CopyGeneration(ctx, l.ID, l.Generation, u.ID, 20000)
		if err != nil {
			return err
		}
		total += n
	}
	if err := im.progress(ctx); err != nil {
		return err
	}
	ok, err := a.DB.SwitchGeneration(ctx, l, l.Generation, u.ID, total)
	if err != nil {
		return err
	}
	if !ok {
		return regulars.Errorf(regulars.ECONFLICT, "The list changed while the file was loading; nothing was changed. Upload it again.")
	}
	u.Members = total
	return nil
}

func (p pendingRow) value() string {
	if p.raw != "" {
		return p.raw
	}
	return p.key
}

// read checks every row of the file; malformed ones are rejected, the rest
// kept.
func (im *importer) read(ctx context.Context, file io.Reader) error {
	u, f := im.u, im.f
	br := bufio.NewReaderSize(file, 1<<16)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, utf8BOM) {
		br.Discard(3)
	}
	r := csv.NewReader(br)
	r.Comma, r.LazyQuotes, r.FieldsPerRecord, r.ReuseRecord = f.comma, true, -1, true
	if _, err := r.Read(); err != nil { // the header, checked already
		return err
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return err
			}
			u.Rows++
			im.reject(int64(pe.StartLine), "", regulars.RejectInvalid, "The line is not valid CSV.")
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank lines are not rows
		}
		u.Rows++
		if u.Rows%100000 == 0 {
			if err := im.saveRejects(ctx); err != nil {
				return err
			}
			if err := im.progress(ctx); err != nil {
				return err
			}
		}
		if f.column >= len(rec) {
			im.reject(int64(line), strings.Join(rec, string(f.comma)), regulars.RejectInvalid, fmt.Sprintf("The line has no %s column.", f.header[f.column]))
			continue
		}
		raw := rec[f.column]
		key, problem := normaliseIdentifier(f.matchBy, raw)
		if problem != "" {
			im.reject(int64(line), strings.Clone(raw), regulars.RejectInvalid, problem)
			continue
		}
		p := pendingRow{line: int64(line), key: strings.Clone(key)} // the record's memory is reused
		if raw != key {
			p.raw = strings.Clone(raw)
		}
		im.rows = append(im.rows, p)
	}
}

// resolveWorkers is how many batches are resolved at once: the database
// probes on one connection each, so a few overlap well.
const resolveWorkers = 3

// resolve finds the follower of each (sorted, distinct) row's identifier
// among the partner's followers, a few batches at a time.
func (im *importer) resolve(ctx context.Context) error {
	if im.a.DB.Dialect() == "postgres" && len(im.rows) >= 100_000 {
		// PostgreSQL joins a big upload's identifiers in one statement.
		if err := im.resolveBatch(ctx, im.rows); err != nil {
			return err
		}
		return im.progress(ctx)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	starts := make(chan int)
	errs := make(chan error, resolveWorkers)
	for range resolveWorkers {
		go func() {
			for start := range starts {
				if err := im.resolveBatch(ctx, im.rows[start:min(start+resolveBatch, len(im.rows))]); err != nil {
					errs <- err
					cancel()
					return
				}
			}
			errs <- nil
		}()
	}
	var err error
	for start := 0; start < len(im.rows); start += resolveBatch {
		if start%(4*resolveBatch) == 0 {
			if err = im.progress(ctx); err != nil {
				break
			}
		}
		select {
		case starts <- start:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(starts)
	for range resolveWorkers {
		if werr := <-errs; werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// resolveBatch resolves one batch of rows in place.
func (im *importer) resolveBatch(ctx context.Context, batch []pendingRow) error {
	keys := make([]string, len(batch))
	for i, p := range batch {
		keys[i] = p.key
	}
	got, err := im.a.DB.FollowerIDsBy(ctx, im.l.TenantID, im.u.MatchBy, keys)
	if err != nil {
		return err
	}
	// Only followers of the partner's channels can be on its lists: a
	// list must not tell who else uses the app.
	ours, err := im.a.Segments.FollowingPartner(ctx, im.l.TenantID, im.l.PartnerID, got.All())
	if err != nil {
		return err
	}
	for i := range batch {
		n := int64(0)
		for _, id := range got.Of(i) {
			if ours[id] {
				batch[i].id = id
				n++
			}
		}
		if n > 1 {
			batch[i].id = -n
		}
	}
	return nil
}

func (im *importer) reject(line int64, value, reason, detail string) {
	switch reason {
	case regulars.RejectDuplicate:
		im.u.Duplicates++
	case regulars.RejectUnknown:
		im.u.Unknown++
	default:
		im.u.Invalid++
	}
	if len(value) > 500 {
		value = value[:500]
	}
	im.rejects = append(im.rejects, regulars.RejectedRow{Line: line, Value: value, Reason: reason, Detail: detail})
}

func (im *importer) saveRejects(ctx context.Context) error {
	if len(im.rejects) == 0 {
		return nil
	}
	err := im.a.DB.AddRejects(ctx, im.u.ID, im.rejects)
	im.rejects = im.rejects[:0]
	return err
}

// progress saves the counts (the worker's heartbeat) and stops a
// cancelled upload.
func (im *importer) progress(ctx context.Context) error {
	cancel, err := im.a.DB.UploadProgress(ctx, im.u)
	if err != nil {
		return err
	}
	if cancel {
		return errCancelled
	}
	return ctx.Err()
}

// FailStaleUploads ends uploads whose worker stopped reporting (the node
// went away): the list stays as it was.
func (a *App) FailStaleUploads(ctx context.Context) error {
	stale, err := a.DB.StaleUploads(ctx, a.now().Add(-2*time.Minute))
	if err != nil {
		return err
	}
	for _, u := range stale {
		ok, err := a.DB.FinishUpload(ctx, u, regulars.UploadFailed, "The upload stopped before it finished; the list was left as it was. Please upload the file again.")
		if err != nil {
			return err
		}
		if ok {
			if err := a.DB.DiscardGeneration(ctx, u.ListID, u.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// CollectListGarbage deletes the rows of list generations nothing uses
// any more, for at most the time given.
func (a *App) CollectListGarbage(ctx context.Context, budget time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	_, err := a.DB.CollectListGarbage(ctx, 5000)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// tempUploadFile is a spooled upload that removes itself when closed.
type tempUploadFile struct{ *os.File }

// SpoolUpload copies an uploaded file to a temporary file the background
// upload can read after the request ends; the caller closes it (which
// removes it). It refuses files over the size limit.
func SpoolUpload(src io.Reader) (io.ReadSeekCloser, int64, error) {
	f, err := os.CreateTemp("", "regulars-list-*.csv")
	if err != nil {
		return nil, 0, err
	}
	os.Remove(f.Name()) // the open file stays readable until closed
	n, err := io.Copy(f, io.LimitReader(src, MaxListUploadBytes+1))
	if err == nil && n > MaxListUploadBytes {
		err = &regulars.Error{Code: regulars.EINVALID, Message: fmt.Sprintf("The file is larger than %d MB.", MaxListUploadBytes>>20),
			Fields: map[string]string{"file": fmt.Sprintf("The file is larger than %d MB. Split it into smaller files and append them.", MaxListUploadBytes>>20)}}
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return tempUploadFile{f}, n, nil
}
