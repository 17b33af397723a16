package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"regulars/internal/testenv"
)

// BenchmarkAdminUsersPage serves the users page in-process (no network),
// next to a bare handler writing the same bytes: the cost of our stack.
func BenchmarkAdminUsersPage(b *testing.B) {
	db := testenv.OpenSQLite(b)
	w := testenv.NewWorld(b, db)
	srv := testenv.NewServer(b, db)
	res, err := srv.App.SignIn(context.Background(), w.Owner.Email, testenv.Password, "127.0.0.1", "bench")
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/admin/users", nil)
	req.Header.Set("Cookie", "rg_session="+res.Secret)
	rec := httptest.NewRecorder()
	srv.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.Bytes()
	b.Run("bare", func(b *testing.B) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(body)
		})
		for b.Loop() {
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
	b.Run("page", func(b *testing.B) {
		for b.Loop() {
			rec := httptest.NewRecorder()
			srv.Handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
}
