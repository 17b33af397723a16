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
