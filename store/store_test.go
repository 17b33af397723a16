package store_test

import (
	"context"
	"slices"
	"testing"

	"regulars"
	"regulars/internal/testenv"
	"regulars/store"
)

// eachDB runs fn against a fresh, migrated SQLite database and, when
// PostgreSQL is available, a fresh PostgreSQL database: one suite, both
// dialects.
func eachDB(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, testenv.OpenSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, testenv.OpenPostgres(t))
	})
}

func TestMigrationsMatchAcrossDialects(t *testing.T) {
	lite, err := store.Migrations("sqlite")
	if err != nil {
		t.Fatal(err)
	}
	pg, err := store.Migrations("postgres")
	if err != nil {
		t.Fatal(err)
	}
	names := func(ms []store.Migration) (out []string) {
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	if !slices.Equal(names(lite), names(pg)) {
		t.Fatalf("migration lists differ:\nsqlite:   %v\npostgres: %v", names(lite), names(pg))
	}
}

func TestMigrateTwiceIsSafe(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		applied, err := db.Migrate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Fatalf("second migrate applied %v", applied)
		}
		if err := db.CheckQueries(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

func TestMigrateConcurrently(t *testing.T) {
	url := testenv.PostgresURL(t)
	ctx := context.Background()
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			db, err := store.Open(ctx, url)
			if err != nil {
				errs <- err
				return
			}
			defer db.Close()
			_, err = db.Migrate(ctx)
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestOneAccountOwnerPerPartner(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		second := &regulars.User{TenantID: w.Tenant.ID, PartnerID: w.Partner.ID, RoleID: w.OwnerRole.ID, Name: "Second", Email: "second@example.com"}
		err := db.CreateUser(ctx, second, true)
		if regulars.ErrorCode(err) != regulars.ECONFLICT {
			t.Fatalf("second owner: got %v, want conflict", err)
		}
	})
}

// Searches of names ignore case and accents the same way on both
// databases: a follower's name in the chat, a member's in a program, a
// channel's name and description.
func TestSearchIgnoresAccents(t *testing.T) {
	testenv.EachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		ch := *w.Channel
		ch.Name, ch.Description = "Café Ñandú", "Crème brûlée every day"
		if err := db.UpdateChannel(ctx, &ch); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"cafe", "CAFÉ", "nandu", "creme brulee", "BRÛLÉE"} {
			got, err := db.BrowseChannels(ctx, w.Tenant.ID, q, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].ID != ch.ID {
				t.Errorf("channels matching %q: %d, want the café", q, len(got))
			}
		}
		if got, _ := db.BrowseChannels(ctx, w.Tenant.ID, "100%", 10); len(got) != 0 {
			t.Errorf("%q matched %d channels: the %% is a character, not a wildcard", "100%", len(got))
		}
		if store.Fold("Łódź MÜLLER Øre") != "lodz muller ore" {
			t.Errorf("Fold: %q", store.Fold("Łódź MÜLLER Øre"))
		}
	})
}
