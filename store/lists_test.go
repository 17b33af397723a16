package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"regulars"
	"regulars/internal/testenv"
	"regulars/store"
)

// FollowerIDsBy finds exactly the followers of each identifier, whether
// the identifiers lie close together (read as a range of the index on
// SQLite) or far apart (probed one by one), with unknown ones between.
func TestFollowerIDsByDenseAndSparse(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := testenv.NewWorld(t, db)
		var rows [][]any
		base, err := db.MaxID(ctx, "followers")
		if err != nil {
			t.Fatal(err)
		}
		byEUID, byEmail, byPhone := map[string][]int64{}, map[string][]int64{}, map[string][]int64{}
		for i := range 1000 {
			id := base + int64(i) + 1
			euid, email := fmt.Sprintf("R%05d", i*3), fmt.Sprintf("r%05d@x.example", i*3)
			phone := fmt.Sprintf("+44 20 %04d %04d", i/2, i%7) // neighbours share some numbers
			rows = append(rows, []any{id, w.Tenant.ID, euid, "R", email, phone, "", "", "", "active", int64(1)})
			byEUID[euid] = append(byEUID[euid], id)
			byEmail[email] = append(byEmail[email], id)
			key := store.PhoneKey(phone)
			byPhone[key] = append(byPhone[key], id)
		}
		if err := db.InTx(ctx, func(ctx context.Context) error {
			return db.BulkInsert(ctx, "followers", []string{"id", "tenant_id", "end_user_id", "name", "email", "phone", "birth_date", "gender", "language", "status", "created_at"}, rows)
		}); err != nil {
			t.Fatal(err)
		}
		check := func(name, by string, all map[string][]int64, keys []string) {
			t.Helper()
			slices.Sort(keys)
			keys = slices.Compact(keys)
			got, err := db.FollowerIDsBy(ctx, w.Tenant.ID, by, keys)
			if err != nil {
				t.Fatal(err)
			}
			for i, k := range keys {
				ids := slices.Clone(got.Of(i))
				slices.Sort(ids)
				if !slices.Equal(ids, all[k]) {
					t.Fatalf("%s: key %s gives %v, want %v", name, k, ids, all[k])
				}
			}
		}
		var dense, sparse, emails, phones []string
		for i := range 3000 {
			dense = append(dense, fmt.Sprintf("R%05d", i)) // two in three unknown
			if i%29 == 0 {
				sparse = append(sparse, fmt.Sprintf("R%05d", i*3))
			}
			emails = append(emails, fmt.Sprintf("r%05d@x.example", i))
		}
		for i := range 600 {
			phones = append(phones, store.PhoneKey(fmt.Sprintf("+44 20 %04d %04d", i/2, i%7)))
		}
		check("dense end-user IDs", regulars.MatchEndUserID, byEUID, dense)
		check("sparse end-user IDs", regulars.MatchEndUserID, byEUID, append(sparse, "A", "ZZZZ"))
		check("emails", regulars.MatchEmail, byEmail, emails)
		check("phones, some shared", regulars.MatchPhone, byPhone, phones)
		if db.Dialect() == "postgres" {
			// Big uploads join a temporary table of the keys instead.
			defer store.SetBulkKeys(1)()
			check("dense end-user IDs, joined", regulars.MatchEndUserID, byEUID, dense)
			check("phones, joined", regulars.MatchPhone, byPhone, phones)
		}
	})
}
