package web

import (
	"net/http"
	"strconv"

	"regulars"
	"regulars/app"
)

// The canned responses in settings: categories and responses of the
// partner; the platform's defaults are listed for reference. Tenant staff
// manage those defaults on the same pages under /tenant.

// cannedHere is where the requesting actor's canned-response pages are.
func cannedHere(r *http.Request) string { return cannedBase(actorFrom(r.Context())) }

// cannedBase is where the actor's canned-response pages are.
func cannedBase(a *app.Actor) string {
	if a.Partner == nil {
		return "/tenant/canned"
	}
	return "/admin/canned"
}

// cannedPage renders the settings page; form is a refused form ("response"
// or "category") with its values and errors.
func (h *Handler) cannedPage(w http.ResponseWriter, r *http.Request, status int, which string, form *Form) {
	a := actorFrom(r.Context())
	cats, err := h.app.CannedResponses(r.Context(), a)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	var own, defaults []*regulars.CannedCategory
	for _, c := range cats {
		if c.PartnerID == 0 && a.Partner != nil {
			defaults = append(defaults, c)
		} else {
			own = append(own, c)
		}
	}
	var responseForm, categoryForm *Form
	switch which {
	case "response":
		responseForm = form
	case "category":
		categoryForm = form
	}
	title := "Canned responses"
	if a.Partner == nil {
		title = "Canned response defaults"
	}
	// The new response's category: the one of a refused form, or the one
	// whose "Add a response" link was followed (?category=).
	selected := r.URL.Query().Get("category")
	if responseForm != nil {
		selected = responseForm.Get("category_id")
	}
	f := app.CannedFeature(a)
	p := &Page{Title: title, Active: cannedBase(a), Data: map[string]any{"Own": own, "Defaults": defaults, "Selected": selected,
		"ResponseForm": responseForm, "CategoryForm": categoryForm, "Base": cannedBase(a), "Tenant": a.Partner == nil,
		"CanManage": a.Can(f, regulars.LevelManage), "CanUpdate": a.Can(f, regulars.LevelUpdate)}}
	if form != nil {
		p.Flash = &Flash{Kind: "error", Text: form.Message}
	}
	h.render(w, r, status, "canned", p)
}

func (h *Handler) canned(w http.ResponseWriter, r *http.Request) {
	h.cannedPage(w, r, http.StatusOK, "", nil)
}

// cannedFail re-renders the settings page with the form's errors.
func (h *Handler) cannedFail(w http.ResponseWriter, r *http.Request, err error, form string) {
	if regulars.ErrorCode(err) != regulars.EINVALID {
		h.fail(w, r, err, "", nil)
		return
	}
	r.ParseForm()
	fe := regulars.FieldErrors(err)
	if form != "response" && form != "category" {
		// A rename: the name's message is the whole story.
		h.redirect(w, r, cannedHere(r), "error", fe["name"])
		return
	}
	h.cannedPage(w, r, http.StatusUnprocessableEntity, form, &Form{Values: r.PostForm, Errors: fe, Message: regulars.ErrorMessage(err)})
}

func cannedInput(r *http.Request) app.CannedInput {
	return app.CannedInput{CategoryID: formInt(r, "category_id"), Title: r.PostFormValue("title"), Text: r.PostFormValue("text")}
}

func (h *Handler) createCanned(w http.ResponseWriter, r *http.Request) {
	c, err := h.app.CreateCanned(r.Context(), actorFrom(r.Context()), cannedInput(r))
	if err != nil {
		h.cannedFail(w, r, err, "response")
		return
	}
	h.redirect(w, r, cannedHere(r)+"#response-"+strconv.FormatInt(c.ID, 10), "success", "“"+c.Title+"” is ready: agents insert it with a click or by typing / and the first letters of its title.")
}

func (h *Handler) cannedForm(w http.ResponseWriter, r *http.Request, status int, c *regulars.CannedResponse, form *Form) {
	a := actorFrom(r.Context())
	cats, err := h.app.CannedResponses(r.Context(), a)
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	var own []*regulars.CannedCategory
	for _, cat := range cats {
		if cat.PartnerID == a.PartnerID() {
			own = append(own, cat)
		}
	}
	f := app.CannedFeature(a)
	h.render(w, r, status, "canned_form", &Page{Title: c.Title, Active: cannedBase(a), Form: form, Data: map[string]any{"Response": c, "Categories": own, "Base": cannedBase(a),
		"CanUpdate": a.Can(f, regulars.LevelUpdate), "CanManage": a.Can(f, regulars.LevelManage)}})
}

func (h *Handler) loadCanned(w http.ResponseWriter, r *http.Request) *regulars.CannedResponse {
	return loadByID(h, w, r, h.app.Canned)
}

func (h *Handler) editCanned(w http.ResponseWriter, r *http.Request) {
	if c := h.loadCanned(w, r); c != nil {
		h.cannedForm(w, r, http.StatusOK, c, nil)
	}
}

func (h *Handler) updateCanned(w http.ResponseWriter, r *http.Request) {
	c := h.loadCanned(w, r)
	if c == nil {
		return
	}
	if _, err := h.app.UpdateCanned(r.Context(), actorFrom(r.Context()), c.ID, cannedInput(r)); err != nil {
		if regulars.ErrorCode(err) == regulars.EINVALID {
			h.cannedForm(w, r, http.StatusUnprocessableEntity, c, &Form{Values: r.PostForm, Errors: regulars.FieldErrors(err), Message: regulars.ErrorMessage(err)})
			return
		}
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, cannedHere(r)+"#response-"+strconv.FormatInt(c.ID, 10), "success", "Saved.")
}

func (h *Handler) deleteCanned(w http.ResponseWriter, r *http.Request) {
	c := h.loadCanned(w, r)
	if c == nil {
		return
	}
	if err := h.app.DeleteCanned(r.Context(), actorFrom(r.Context()), c.ID); err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, cannedHere(r), "success", "“"+c.Title+"” is deleted.")
}

func (h *Handler) createCannedCategory(w http.ResponseWriter, r *http.Request) {
	c, err := h.app.CreateCannedCategory(r.Context(), actorFrom(r.Context()), r.PostFormValue("name"))
	if err != nil {
		h.cannedFail(w, r, err, "category")
		return
	}
	h.redirect(w, r, cannedHere(r)+"#category-"+strconv.FormatInt(c.ID, 10), "success", "Category "+c.Name+" added. Now add responses to it.")
}

func (h *Handler) renameCannedCategory(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	c, err := h.app.RenameCannedCategory(r.Context(), actorFrom(r.Context()), id, r.PostFormValue("name"))
	if err != nil {
		h.cannedFail(w, r, err, "rename-"+strconv.FormatInt(id, 10))
		return
	}
	h.redirect(w, r, cannedHere(r)+"#category-"+strconv.FormatInt(c.ID, 10), "success", "Renamed to "+c.Name+".")
}

func (h *Handler) deleteCannedCategory(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		h.notFound(w, r)
		return
	}
	a := actorFrom(r.Context())
	c, err := h.app.CannedCategory(r.Context(), a, id)
	if err == nil {
		err = h.app.DeleteCannedCategory(r.Context(), a, id)
	}
	if err != nil {
		h.fail(w, r, err, "", nil)
		return
	}
	h.redirect(w, r, cannedHere(r), "success", "The category "+c.Name+" is deleted.")
}
