package files

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"regulars"
)

// S3 stores files in a bucket of an S3-compatible service (AWS S3, MinIO,
// Ceph, Garage, …), under a key prefix. Several app nodes share it, which
// a local disk is not.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string // "" or ends in "/"
}

// S3Config says where the bucket is: URL is http(s)://host[:port]/bucket[/prefix].
type S3Config struct {
	URL       string
	AccessKey string
	SecretKey string
	Region    string // default us-east-1
}

// NewS3 returns the store of c's bucket. It does not contact the service;
// Check does.
func NewS3(c S3Config) (*S3, error) {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("files: the S3 URL must look like https://host/bucket[/prefix], got %q", c.URL)
	}
	bucket, prefix, _ := strings.Cut(strings.Trim(u.Path, "/"), "/")
	if bucket == "" {
		return nil, fmt.Errorf("files: the S3 URL %q names no bucket (https://host/bucket[/prefix])", c.URL)
	}
	if prefix != "" {
		prefix += "/"
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""),
		Secure:       u.Scheme == "https",
		Region:       c.Region,
		BucketLookup: minio.BucketLookupAuto,
	})
	if err != nil {
		return nil, fmt.Errorf("files: S3: %w", err)
	}
	return &S3{client: client, bucket: bucket, prefix: prefix}, nil
}

// Check reports whether the bucket is there and reachable with the
// credentials, so that a wrong setting fails at start, not at the first
// upload.
func (s *S3) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("files: S3 bucket %q: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("files: S3 bucket %q does not exist", s.bucket)
	}
	return nil
}

// Sub is the store of the keys under folder in the same bucket.
func (s *S3) Sub(folder string) *S3 {
	sub := *s
	sub.prefix += strings.Trim(folder, "/") + "/"
	return &sub
}

func (s *S3) key(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "..") {
		return "", fmt.Errorf("files: bad key %q", key)
	}
	return s.prefix + key, nil
}

// Put uploads r; its size is not known before, so it goes in parts of
// 5 MiB (the least S3 allows), which is what one upload holds in memory.
// The body is not signed chunk by chunk (what the client does over plain
// http by default, with trailers not every S3-compatible service reads);
// over https, as in production, it is not signed that way anyway.
func (s *S3) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	k, err := s.key(key)
	if err != nil {
		return 0, err
	}
	info, err := s.client.PutObject(ctx, s.bucket, k, r, -1, minio.PutObjectOptions{PartSize: 5 << 20, ContentType: "application/octet-stream", DisableContentSha256: true})
	if err != nil {
		return 0, fmt.Errorf("files: S3 upload: %w", err)
	}
	return info.Size, nil
}

// Open reads a stored file; reads and seeks are ranged requests.
func (s *S3) Open(ctx context.Context, key string) (File, error) {
	k, err := s.key(key)
	if err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, k, minio.GetObjectOptions{})
	if err == nil {
		_, err = obj.Stat() // GetObject asks nothing until read
	}
	if err != nil {
		if obj != nil {
			obj.Close()
		}
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil, regulars.ErrNotFound("file")
		}
		return nil, fmt.Errorf("files: S3 download: %w", err)
	}
	return obj, nil
}

// Delete removes a stored file; S3 reports no error for a missing one.
func (s *S3) Delete(ctx context.Context, key string) error {
	k, err := s.key(key)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{}); err != nil && minio.ToErrorResponse(err).Code != minio.NoSuchKey {
		return fmt.Errorf("files: S3 delete: %w", err)
	}
	return nil
}

var _ Store = (*S3)(nil)
