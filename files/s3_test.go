package files_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"regulars"
	"regulars/files"
	"regulars/internal/testenv"
)

func TestS3Store(t *testing.T) {
	ctx := context.Background()
	base := testenv.FakeS3(t, "uploads")
	s, err := files.NewS3(files.S3Config{URL: base + "/uploads/regulars", AccessKey: "key", SecretKey: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatalf("check: %v", err)
	}
	// Larger than one 5 MiB part: the upload goes in parts.
	body := bytes.Repeat([]byte("0123456789abcdef"), 6<<20/16+3)
	n, err := s.Put(ctx, "chat/1/a.pdf", bytes.NewReader(body))
	if err != nil || n != int64(len(body)) {
		t.Fatalf("put: %d bytes, %v; want %d", n, err, len(body))
	}
	f, err := s.Open(ctx, "chat/1/a.pdf")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	// Ranged reads, as http.ServeContent does them.
	if _, err := f.Seek(int64(len(body))-5, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	tail, _ := io.ReadAll(f)
	if string(tail) != string(body[len(body)-5:]) {
		t.Errorf("after a seek: %q", tail)
	}
	f.Close()

	if _, err := s.Open(ctx, "chat/1/missing.pdf"); regulars.ErrorCode(err) != regulars.ENOTFOUND {
		t.Errorf("a missing file: %v, want not found", err)
	}
	if err := s.Delete(ctx, "chat/1/a.pdf"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, "chat/1/a.pdf"); regulars.ErrorCode(err) != regulars.ENOTFOUND {
		t.Errorf("a deleted file: %v, want not found", err)
	}
	if err := s.Delete(ctx, "chat/1/a.pdf"); err != nil {
		t.Errorf("deleting a missing file: %v", err)
	}
	if _, err := s.Put(ctx, "../escape", strings.NewReader("x")); err == nil {
		t.Error("a key with .. was accepted")
	}
}

func TestS3Settings(t *testing.T) {
	for _, bad := range []string{"", "uploads", "ftp://host/bucket", "https://host", "https://host/"} {
		if _, err := files.NewS3(files.S3Config{URL: bad}); err == nil {
			t.Errorf("NewS3(%q) accepted", bad)
		}
	}
	base := testenv.FakeS3(t, "uploads")
	s, err := files.NewS3(files.S3Config{URL: base + "/nobucket", AccessKey: "key", SecretKey: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing bucket: %v", err)
	}
}
