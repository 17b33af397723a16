package demo

import (
	"context"
	"time"

	"regulars"
	"regulars/store"
)

// loadChat gives the coffee chain canned responses (and the platform a
// default one) and a few conversations in every state: unanswered, taken
// by the agent, finished.
func loadChat(ctx context.Context, db *store.DB, res *Result) error {
	t, p, city := res.Tenant, res.Partner, res.Channels[0]
	return db.InTx(ctx, func(ctx context.Context) error {
		canned := []struct {
			partner  int64
			category string
			items    [][2]string
		}{
			{0, "Platform", [][2]string{{"Privacy", "You can see and change what we know about you under Me in the app."}}},
			{p.ID, "Opening hours", [][2]string{
				{"Weekdays", "We are open 7:00 to 19:00 Monday to Friday."},
				{"Sunday", "On Sundays we open 9:00 to 16:00, the airport shop 6:00 to 22:00."}}},
			{p.ID, "Loyalty", [][2]string{
				{"Points", "Bean Points: you earn 10 beans a visit and 5 for every 1.00 you spend; show your code at the till before you pay."},
				{"Levels", "Coffee Club levels: Bronze from 0, Silver from 100, Gold from 250 and Platinum from 500 stars in total."}}},
		}
		for _, c := range canned {
			cat := &regulars.CannedCategory{TenantID: t.ID, PartnerID: c.partner, Name: c.category}
			if err := db.CreateCannedCategory(ctx, cat); err != nil {
				return err
			}
			for _, it := range c.items {
				if err := db.CreateCanned(ctx, &regulars.CannedResponse{TenantID: t.ID, PartnerID: c.partner, CategoryID: cat.ID, Title: it[0], Text: it[1]}); err != nil {
					return err
				}
			}
		}

		agent, err := db.UserByEmail(ctx, accounts[3].Email)
		if err != nil {
			return err
		}
		manager, err := db.UserByEmail(ctx, accounts[2].Email)
		if err != nil {
			return err
		}
		fan, err := db.FollowerByEmail(ctx, t.ID, FollowerEmail)
		if err != nil {
			return err
		}
		ids := []int64{fan.ID}
		more, err := db.ChannelFollowerIDs(ctx, city.ID, 0, 6)
		if err != nil {
			return err
		}
		for _, id := range more {
			if id != fan.ID && len(ids) < 4 {
				ids = append(ids, id)
			}
		}
		now := db.Clock.Now().UTC()
		type line struct {
			author, text, event string
			user                *regulars.User
		}
		say := func(f string) line { return line{author: regulars.AuthorFollower, text: f} }
		ans := func(u *regulars.User, s string) line { return line{author: regulars.AuthorAgent, text: s, user: u} }
		sys := func(u *regulars.User, event, s string) line {
			return line{author: regulars.AuthorSystem, event: event, text: s, user: u}
		}
		scripts := []struct {
			lines  []line
			status string
			owner  *regulars.User
		}{
			{[]line{say("Hi! Is the airport shop open early on Sunday? My flight is at 7.")}, regulars.ConversationUnanswered, nil},
			{[]line{say("Can I use my beans in the airport shop too?"), sys(agent, regulars.ChatTake, agent.Name+" took the conversation"),
				ans(agent, "Yes: beans work in every Bean & Leaf, the airport included."), say("Great, thanks!")}, regulars.ConversationActive, agent},
			{[]line{say("I think I was charged twice for my latte this morning."), sys(manager, regulars.ChatTake, manager.Name+" took the conversation"),
				ans(manager, "Sorry about that! I've refunded the second charge; it shows in 3 to 5 days."), say("Perfect, thank you."),
				sys(manager, regulars.ChatFinish, manager.Name+" finished the conversation")}, regulars.ConversationFinished, nil},
			{[]line{say("Do you have oat milk?"), say("And decaf?")}, regulars.ConversationUnanswered, nil},
		}
		for i, s := range scripts {
			if i >= len(ids) {
				break
			}
			conv, err := db.EnsureConversation(ctx, t.ID, p.ID, city.ID, ids[i])
			if err != nil {
				return err
			}
			c, err := db.LockConversation(ctx, conv.ID)
			if err != nil {
				return err
			}
			at := now.Add(-time.Duration(len(scripts)-i) * 47 * time.Minute)
			for _, l := range s.lines {
				at = at.Add(2 * time.Minute)
				m := &regulars.ChatMessage{Author: l.author, Kind: regulars.MessageText, Text: l.text, Event: l.event, CreatedAt: at}
				if l.author == regulars.AuthorSystem {
					m.Kind = regulars.MessageSystem
				}
				if l.user != nil {
					m.UserID = l.user.ID
				}
				if _, err := db.AddChatMessage(ctx, c, m); err != nil {
					return err
				}
			}
			c.Status = s.status
			if s.owner != nil {
				c.OwnerID = s.owner.ID
			}
			if s.status == regulars.ConversationFinished {
				c.FinishedBy = manager.ID
			}
			if err := db.SetConversationState(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
}
