package web

import (
	"encoding/json"
	"net/http"

	"regulars"
	"regulars/httpx"
)

// The chat's badge: how many of the partner's conversations wait for an
// answer, on the Chat menu entry and in the window's title of every page,
// so that an agent working elsewhere sees a follower write. The page
// renders it; static/js/chat_badge.js keeps it live.

func (h *Handler) chatBadgeRoutes() []httpx.Route {
	return []httpx.Route{{Method: "GET", Pattern: "/admin/chat-unanswered", Side: httpx.Partner, Feature: regulars.FeatureChat, Level: regulars.LevelView,
		Handler: h.chatUnanswered}}
}

// countUnanswered sets p's badge for an actor who sees the chat.
func (h *Handler) countUnanswered(r *http.Request, p *Page) {
	a := p.Actor
	if a.Partner == nil || !a.Can(regulars.FeatureChat, regulars.LevelView) {
		return
	}
	if !p.counted {
		n, err := h.app.DB.CountConversations(r.Context(), a.PartnerID(), a.User.ID)
		if err != nil {
			h.log.Warn("counting unanswered conversations", "err", err) // the page shows without
			return
		}
		p.Unanswered = n.Unanswered
	}
	for i := range p.Menu {
		for j := range p.Menu[i].Links {
			if p.Menu[i].Links[j].Href == "/admin/chat" {
				p.Menu[i].Links[j].Count = p.Unanswered
			}
		}
	}
}

// chatUnanswered answers {"unanswered": n} for the badge to update itself.
func (h *Handler) chatUnanswered(w http.ResponseWriter, r *http.Request) {
	a := actorFrom(r.Context())
	n, err := h.app.DB.CountConversations(r.Context(), a.PartnerID(), a.User.ID)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]int64{"unanswered": n.Unanswered})
}
