// Package files stores uploaded files (chat attachments): on the local
// disk under the data folder by default, or in an S3-compatible bucket
// (S3), which several app nodes can share.
package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"regulars"
)

// Store keeps files by key. Keys are relative slash-separated paths the
// application makes up (never user input).
type Store interface {
	// Put writes r under key and returns the bytes written.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open reads a stored file; a missing key is ENOTFOUND.
	Open(ctx context.Context, key string) (File, error)
	// Delete removes a file; a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// File is an open stored file.
type File interface {
	io.ReadSeekCloser
}

// Disk stores files in a folder.
type Disk struct{ Dir string }

// NewDisk returns a Disk store rooted at dir.
func NewDisk(dir string) *Disk { return &Disk{Dir: dir} }

func (d *Disk) path(key string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(key))
	if key == "" || filepath.IsAbs(clean) || clean == "." || strings.HasPrefix(clean, "..") {
		return "", fmt.Errorf("files: bad key %q", key)
	}
	return filepath.Join(d.Dir, clean), nil
}

// Put writes the file atomically: a reader never sees half a file.
func (d *Disk) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	p, err := d.path(key)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".upload-*")
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(tmp, r)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return 0, err
	}
	return n, nil
}

// Open opens a stored file.
func (d *Disk) Open(ctx context.Context, key string) (File, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, regulars.ErrNotFound("file")
	}
	return f, err
}

// Delete removes a stored file.
func (d *Disk) Delete(ctx context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
