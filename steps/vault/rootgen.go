package vault

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// GenerateRoot runs Vault's generate-root flow with a one-time password:
// Vault creates the OTP, the key holders' shares authorise the operation
// (the same shares that unseal), and the new root token comes back XORed
// with the OTP, so it never crosses the wire or touches disk in clear.
// Progress (k of threshold) is emitted per share.
//
// An unfinished generation left by an earlier run is cancelled first: its
// OTP died with that run, so it could never be completed.
//
// The token is valid until revoked: use WithRootToken, which revokes it
// right after use.
func (c *Conn) GenerateRoot(ctx context.Context, shares []string, emit event.Emitter) (string, error) {
	emit = event.Or(emit)
	sys := c.client.Sys()
	cur, err := sys.GenerateRootStatusWithContext(ctx)
	if err != nil {
		return "", fmt.Errorf("reading root token generation status: %w", err)
	}
	if cur.Started {
		emit.Warn(fmt.Sprintf("cancelled an unfinished root token generation (%d of %d shares) left by an earlier run", cur.Progress, cur.Required))
		if err := sys.GenerateRootCancelWithContext(ctx); err != nil {
			return "", fmt.Errorf("cancelling the unfinished root token generation: %w", err)
		}
	}
	st, err := sys.GenerateRootInitWithContext(ctx, "", "")
	if err != nil {
		return "", fmt.Errorf("starting root token generation: %w", err)
	}
	otp, nonce := st.OTP, st.Nonce
	if otp == "" {
		_ = sys.GenerateRootCancelWithContext(ctx)
		return "", errors.New("no one-time password came back from Vault for root token generation (Vault older than 1.10?)")
	}
	cancel := func() { _ = sys.GenerateRootCancelWithContext(context.WithoutCancel(ctx)) }

	for i, share := range shares {
		raw, err := decodeShare(share)
		if err != nil {
			cancel()
			return "", fmt.Errorf("share %d: %w", i+1, err)
		}
		st, err = sys.GenerateRootUpdateWithContext(ctx, base64.StdEncoding.EncodeToString(raw), nonce)
		if err != nil {
			cancel()
			return "", fmt.Errorf("root token generation refused share %d: %w (the attempt was cancelled; nothing changed)", i+1, err)
		}
		emit.Progress(eventSubject, int64(st.Progress), int64(st.Required), unitShares, fmt.Sprintf("root token generation %d of %d", min(st.Progress, st.Required), st.Required))
		if st.Complete {
			break
		}
	}
	if !st.Complete {
		cancel()
		return "", fmt.Errorf("root token generation needs %d shares, %d given; the attempt was cancelled", st.Required, len(shares))
	}
	encoded := st.EncodedToken
	if encoded == "" {
		encoded = st.EncodedRootToken
	}
	token, err := decodeOTPToken(encoded, otp)
	if err != nil {
		return "", err
	}
	emit.Progress(eventSubject, int64(st.Required), int64(st.Required), unitShares, "root token generated")
	return token, nil
}

// decodeOTPToken undoes Vault's encoding: base64 (raw, no padding) of the
// token XOR the OTP.
func decodeOTPToken(encoded, otp string) (string, error) {
	raw, err := base64.RawStdEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("decoding the generated root token: %w", err)
	}
	if len(raw) != len(otp) {
		return "", fmt.Errorf("decoding the generated root token: length %d does not match the one-time password (%d)", len(raw), len(otp))
	}
	out := make([]byte, len(raw))
	for i := range raw {
		out[i] = raw[i] ^ otp[i]
	}
	return string(out), nil
}

// WithRootToken generates a root token from the key holders' shares, runs
// fn with it, and revokes it right after, whatever fn returns. This is how
// day-2 admin work (re-delivering secrets after a reboot, rotating, adding a
// service) gets privileges without any token stored on disk.
func (c *Conn) WithRootToken(ctx context.Context, shares []string, emit event.Emitter, fn func(ctx context.Context, token string) error) (err error) {
	emit = event.Or(emit)
	token, err := c.GenerateRoot(ctx, shares, emit)
	if err != nil {
		return err
	}
	defer func() {
		if rerr := c.RevokeToken(context.WithoutCancel(ctx), token); rerr != nil {
			err = errors.Join(err, fmt.Errorf("the temporary root token could not be revoked — revoke it by hand now: %w", rerr))
			return
		}
		emit.Info(eventSubject, "temporary root token revoked")
	}()
	return fn(ctx, token)
}

// WithInstallerToken runs fn with a short-lived token that carries only
// the installer policy (secrets under banking/). The key holders' shares
// authorise a temporary root token just long enough to create it; the
// installer token is revoked when fn returns.
func (c *Conn) WithInstallerToken(ctx context.Context, shares []string, emit event.Emitter, fn func(ctx context.Context, token string) error) (err error) {
	emit = event.Or(emit)
	var token string
	if err := c.WithRootToken(ctx, shares, emit, func(ctx context.Context, root string) error {
		t, err := c.CreateInstallerToken(ctx, root, InstallerTokenTTL)
		token = t
		return err
	}); err != nil {
		return err
	}
	defer func() {
		if rerr := c.RevokeToken(context.WithoutCancel(ctx), token); rerr != nil {
			err = errors.Join(err, fmt.Errorf("the installer token could not be revoked (it expires within %s): %w", InstallerTokenTTL, rerr))
		}
	}()
	return fn(ctx, token)
}
