package web

import (
	"encoding/csv"
	"errors"
	"net/http"
	"strconv"

	"regulars"
	"regulars/app"
)

func (h *Handler) lists(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorFrom(r.Context())
	ls, err := h.app.Lists(ctx, a)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "lists", &Page{Title: "Custom end-user lists", Data: map[string]any{
		"Lists": ls, "CanManage": a.Can(regulars.FeatureCustomLists, regulars.LevelManage)}})
}

func (h *Handler) newList(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, "list_new", &Page{Title: "New list", Active: "/admin/lists"})
}

// maxUploadRequest bounds an upload request: the file and the form around it.
const maxUploadRequest = app.MaxListUploadBytes + 1<<20

// uploadForm reads the upload fields of a multipart form into a spooled
// file; the caller closes it (unless a background upload took it over).
// With optional set, a form without a file gives no file and no error.
func uploadForm(w http.ResponseWriter, r *http.Request, optional bool) (app.UploadInput, func(), error) {
	in := app.UploadInput{Mode: r.FormValue("mode"), MatchBy: r.FormValue("match_by")}
	fail := func(msg string) error {
		return &regulars.Error{Code: regulars.EINVALID, Message: msg, Fields: map[string]string{"file": msg}}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadRequest)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return in, nil, fail("The file is larger than 64 MB. Split it into smaller files and append them.")
		}
		return in, nil, fail("Choose a file to upload.")
	}
	in.Mode, in.MatchBy = r.FormValue("mode"), r.FormValue("match_by")
	if in.Mode == "" {
		in.Mode = regulars.UploadReplace
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		if optional && errors.Is(err, http.ErrMissingFile) {
			return in, nil, nil
		}
		return in, nil, fail("Choose a file to upload.")
	}
	defer file.Close()
	spooled, n, err := app.SpoolUpload(file)
	if err != nil {
		return in, nil, err
	}
	in.File, in.Size, in.FileName = spooled, n, hdr.Filename
	return in, func() { spooled.Close() }, nil
}

// startUpload starts loading the form's file into a list and answers with
// the upload's progress page (JSON {"location"} for the script that shows
// the transfer's progress).
func (h *Handler) startUpload(w http.ResponseWriter, r *http.Request, l *regulars.CustomList, in app.UploadInput, closeFile func()) error {
	in.ListID = l.ID
	u, err := h.app.StartUpload(r.Context(), actorFrom(r.Context()), in, closeFile)
	if err != nil {
		closeFile()
		return err
	}
	to := "/admin/lists/uploads/" + strconv.FormatInt(u.ID, 10)
	if r.Header.Get("Accept") == "application/json" {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"location":"` + to + `"}`))
		return nil
	}
	h.redirect(w, r, to, "", "")
	return nil
}

// uploadFailed answers a refused upload: field messages for the script, or
// the form again.
func (h *Handler) uploadFailed(w http.ResponseWriter, r *http.Request, err error, page string, p *Page) {
	if r.Header.Get("Accept") == "application/json" && regulars.ErrorCode(err) != regulars.EINTERNAL {
		msg := regulars.ErrorMessage(err)
		for _, k := range []string{"file", "match_by", "mode", "name"} {
			if m := regulars.FieldErrors(err)[k]; m != "" {
				msg = m
				break
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(statusOf(regulars.ErrorCode(err)))
		w.Write([]byte(`{"error":` + strconv.Quote(msg) + `}`))
		return
	}
	h.fail(w, r, err, page, p)
}

func (h *Handler) createList(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorFrom(r.Context())
	in, closeFile, ferr := uploadForm(w, r, true)
	name := r.FormValue("name")
	p := &Page{Title: "New list", Active: "/admin/lists"}
	if ferr != nil {
		h.uploadFailed(w, r, ferr, "list_new", p)
		return
	}
	l, err := h.app.CreateList(ctx, a, name)
	if err != nil {
		if closeFile != nil {
			closeFile()
		}
		h.uploadFailed(w, r, err, "list_new", p)
		return
	}
	if closeFile == nil {
		h.redirect(w, r, "/admin/lists/"+strconv.FormatInt(l.ID, 10), "success", "List "+l.Name+" created. Upload a file to fill it.")
		return
	}
	if err := h.startUpload(w, r, l, in, closeFile); err != nil {
		// The list exists now; show the refusal on its page.
		h.uploadFailed(w, r, err, "list", h.listPage(r, l))
	}
}

func (h *Handler) loadList(w http.ResponseWriter, r *http.Request) *regulars.CustomList {
	return loadByID(h, w, r, h.app.List)
}

type listPage struct {
	L         *regulars.CustomList
	Uploads   []*regulars.ListUpload
	Users     []*regulars.Segmentation
	Running   *regulars.ListUpload
	CanUpdate bool
	CanManage bool
	Err       error
}

func (h *Handler) listPage(r *http.Request, l *regulars.CustomList) *Page {
	ctx, a := r.Context(), actorFrom(r.Context())
	d := &listPage{L: l, CanUpdate: a.Can(regulars.FeatureCustomLists, regulars.LevelUpdate), CanManage: a.Can(regulars.FeatureCustomLists, regulars.LevelManage)}
	var err error
	if d.Uploads, err = h.app.Uploads(ctx, a, l); err == nil {
		d.Users, err = h.app.ListUsers(ctx, a, l)
	}
	for _, u := range d.Uploads {
		if u.State == regulars.UploadRunning {
			d.Running = u
		}
	}
	d.Err = err
	return &Page{Title: l.Name, Active: "/admin/lists", Data: d}
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	l := h.loadList(w, r)
	if l == nil {
		return
	}
	p := h.listPage(r, l)
	if err := p.Data.(*listPage).Err; err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.render(w, r, http.StatusOK, "list", p)
}

func (h *Handler) renameList(w http.ResponseWriter, r *http.Request) {
	l := h.loadList(w, r)
	if l == nil {
		return
	}
	got, err := h.app.RenameList(r.Context(), actorFrom(r.Context()), l.ID, r.PostFormValue("name"))
	if err != nil {
		h.fail(w, r, err, "list", h.listPage(r, l))
		return
	}
	h.redirect(w, r, "/admin/lists/"+strconv.FormatInt(l.ID, 10), "success", "Renamed to "+got.Name+".")
}

func (h *Handler) uploadList(w http.ResponseWriter, r *http.Request) {
	l := h.loadList(w, r)
	if l == nil {
		return
	}
	in, closeFile, err := uploadForm(w, r, false)
	if err == nil {
		err = h.startUpload(w, r, l, in, closeFile)
	}
	if err != nil {
		h.uploadFailed(w, r, err, "list", h.listPage(r, l))
	}
}

func (h *Handler) deleteList(w http.ResponseWriter, r *http.Request) {
	l := h.loadList(w, r)
	if l == nil {
		return
	}
	if err := h.app.DeleteList(r.Context(), actorFrom(r.Context()), l.ID); err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, "/admin/lists", "success", "List "+l.Name+" deleted.")
}

type uploadPage struct {
	U         *regulars.ListUpload
	L         *regulars.CustomList
	CanUpdate bool
}

// Thousands writes n with separators.
func (d *uploadPage) Thousands(n int64) string { return regulars.Thousands(n) }

// Match names an identifier column for people.
func (d *uploadPage) Match(by string) string { return regulars.MatchLabel(by) }

// Match names an identifier column for people.
func (d *listPage) Match(by string) string { return regulars.MatchLabel(by) }

func (h *Handler) loadUpload(w http.ResponseWriter, r *http.Request) *uploadPage {
	ctx, a := r.Context(), actorFrom(r.Context())
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return nil
	}
	u, err := h.app.Upload(ctx, a, id)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return nil
	}
	l, err := h.app.List(ctx, a, u.ListID)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return nil
	}
	return &uploadPage{U: u, L: l, CanUpdate: a.Can(regulars.FeatureCustomLists, regulars.LevelUpdate)}
}

func (h *Handler) upload(w http.ResponseWriter, r *http.Request) {
	if d := h.loadUpload(w, r); d != nil {
		h.render(w, r, http.StatusOK, "list_upload", &Page{Title: "Upload to " + d.L.Name, Active: "/admin/lists", Data: d})
	}
}

func (h *Handler) uploadProgress(w http.ResponseWriter, r *http.Request) {
	if d := h.loadUpload(w, r); d != nil {
		if d.U.Finished() {
			// Reload the whole page once, so that the list's new size shows.
			w.Header().Set("HX-Refresh", "true")
		}
		h.renderPart(w, r, "list_upload", "report", &Page{Data: d})
	}
}

func (h *Handler) cancelUpload(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	u, err := h.app.CancelUpload(r.Context(), actorFrom(r.Context()), id)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, "/admin/lists/uploads/"+strconv.FormatInt(u.ID, 10), "info", "Cancelling: the list stays as it was.")
}

// rejectedRows downloads the rows of an upload that did not become
// members, with the reason for each.
func (h *Handler) rejectedRows(w http.ResponseWriter, r *http.Request) {
	d := h.loadUpload(w, r)
	if d == nil {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="rejected-rows-`+strconv.FormatInt(d.U.ID, 10)+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	cw.Write([]string{"line", d.U.MatchBy, "reason", "detail"})
	err := h.app.Rejects(r.Context(), actorFrom(r.Context()), d.U, func(rows []regulars.RejectedRow) error {
		for _, row := range rows {
			cw.Write([]string{strconv.FormatInt(row.Line, 10), csvSafe(row.Value), row.Reason, row.Detail})
		}
		cw.Flush()
		return cw.Error()
	})
	cw.Flush()
	if err != nil {
		h.log.Error("rejected rows", "err", err)
	}
}
