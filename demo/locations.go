package demo

import (
	"context"

	"regulars"
	"regulars/store"
)

// loadLocations gives the coffee chain its shops (shown on its channel
// pages) and areas for proximity targeting around them.
func loadLocations(ctx context.Context, db *store.DB, p *regulars.Partner) error {
	for _, l := range []*regulars.Location{
		{Name: "Bean & Leaf High Street", Address: "12 High Street, London", Lat: 51.51436, Lng: -0.09885},
		{Name: "Bean & Leaf Covent Garden", Address: "3 Neal Street, London", Lat: 51.51376, Lng: -0.12503},
		{Name: "Bean & Leaf Airport T2", Address: "Terminal 2, Heathrow Airport", Lat: 51.46955, Lng: -0.45193},
		{Name: "Around High Street", Address: "12 High Street, London", Lat: 51.51436, Lng: -0.09885, Radius: 250},
		{Name: "Covent Garden piazza", Address: "Covent Garden, London", Lat: 51.51177, Lng: -0.12284, Radius: 150},
		{Name: "Terminal 2 departures", Address: "Terminal 2, Heathrow Airport", Lat: 51.47011, Lng: -0.45030, Radius: 400},
	} {
		l.TenantID, l.PartnerID = p.TenantID, p.ID
		if err := db.CreateLocation(ctx, l); err != nil {
			return err
		}
	}
	return nil
}

// targetLocations makes engagements of the loyalty demo fire near the
// shops: the airport's welcome drink coupon enables itself in Terminal 2,
// the autumn menu message greets followers near the city shops.
func targetLocations(ctx context.Context, db *store.DB, res *Result) error {
	if res.Loyalty == nil || res.Partner == nil {
		return nil
	}
	places, err := db.Locations(ctx, res.Partner.ID)
	if err != nil {
		return err
	}
	byName := map[string]int64{}
	for _, l := range places {
		byName[l.Name] = l.ID
	}
	byEngagement := map[string][]string{
		"Airport welcome drink": {"Terminal 2 departures"},
		"Autumn menu is here":   {"Around High Street", "Covent Garden piazza"},
	}
	for _, e := range append(res.Loyalty.Coupons, res.Loyalty.Messages...) {
		for _, place := range byEngagement[e.Name] {
			if id := byName[place]; id != 0 {
				if err := db.AttachLocation(ctx, e.ID, id); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
