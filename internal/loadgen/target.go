package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrNotLoopback is returned (wrapped) when a target is not on the loopback
// interface. This tool only ever sends traffic to 127.0.0.0/8, ::1 or
// localhost.
var ErrNotLoopback = errors.New("loadgen: target is not a loopback address")

// CheckTarget reports whether rawURL is an acceptable load-generation
// target: an http, https, ws or wss URL whose host is "localhost" or
// resolves only to loopback addresses (127.0.0.0/8 or ::1). The returned
// error wraps ErrNotLoopback when the host is not, or cannot be shown to
// be, loopback.
//
// The check is repeated for every connection actually dialled by the
// transports this package builds, so a name that later resolves elsewhere
// is still refused.
func CheckTarget(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil {
		return fmt.Errorf("loadgen: invalid URL %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return fmt.Errorf("loadgen: unsupported URL scheme %q in %q (want http or https)", u.Scheme, rawURL)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("loadgen: URL %q has no host", rawURL)
	}
	if isLocalhostName(host) {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !isLoopback(ip) {
			return fmt.Errorf("%w: %s", ErrNotLoopback, host)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("%w: cannot resolve %s to check it: %v", ErrNotLoopback, host, err)
	}
	if len(addrs) == 0 {
		return fmt.Errorf("%w: %s has no addresses", ErrNotLoopback, host)
	}
	for _, a := range addrs {
		if !isLoopback(a) {
			return fmt.Errorf("%w: %s resolves to %s", ErrNotLoopback, host, a)
		}
	}
	return nil
}

func isLocalhostName(host string) bool {
	return strings.EqualFold(strings.TrimSuffix(host, "."), "localhost")
}

func isLoopback(a netip.Addr) bool {
	return a.Unmap().IsLoopback()
}

// loopbackOnly is a net.Dialer Control function: it runs after name
// resolution and before connecting, and refuses any non-loopback address.
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: cannot parse dial address %q (%s): %v", ErrNotLoopback, address, network, err)
	}
	if !isLoopback(ap.Addr()) {
		return fmt.Errorf("%w: refusing to dial %s", ErrNotLoopback, address)
	}
	return nil
}
