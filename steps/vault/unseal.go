package vault

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// Share sizes Vault accepts: its barrier key is 16 to 32 bytes and a shamir
// share adds one byte. Shares from init are 33 bytes.
const (
	minShareBytes = 16
	maxShareBytes = 33
)

// maxCombinationTries bounds the retries after a failed combination.
const maxCombinationTries = 64

// MalformedShareError means the text entered is not a Vault key share at
// all. Nothing was sent to Vault; its unseal progress is unchanged.
type MalformedShareError struct{ Reason string }

func (e *MalformedShareError) Error() string {
	return "that is not a Vault unseal key share (" + e.Reason + "); nothing was sent to Vault and the progress so far is kept. " +
		"A share is 44 characters of base64 (or 66 hex digits), as shown at init."
}

// ErrDuplicateShare is returned when the same share is entered twice.
var ErrDuplicateShare = errors.New("this share was already entered; enter a different one (progress kept)")

// WrongShareError means threshold-many shares were entered but did not
// combine to Vault's unseal key.
type WrongShareError struct {
	Entered   int
	Threshold int
}

func (e *WrongShareError) Error() string {
	return fmt.Sprintf("the %d shares entered did not combine to Vault's unseal key: at least one is wrong or belongs to another Vault. "+
		"Vault can only tell once the threshold (%d) is reached, and it then discards its own progress. The installer keeps the shares "+
		"entered so far: enter one more share and it will retry the combinations, so the correct shares are not lost.", e.Entered, e.Threshold)
}

// decodeShare accepts a share as base64 or hex, as Vault does.
func decodeShare(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, &MalformedShareError{Reason: "it is empty"}
	}
	if raw, err := hex.DecodeString(s); err == nil && len(raw) >= minShareBytes && len(raw) <= maxShareBytes {
		return raw, nil
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, &MalformedShareError{Reason: "it is neither base64 nor hex"}
	}
	if len(raw) < minShareBytes || len(raw) > maxShareBytes {
		return nil, &MalformedShareError{Reason: fmt.Sprintf("it decodes to %d bytes, a share has %d to %d", len(raw), minShareBytes, maxShareBytes)}
	}
	return raw, nil
}

// Unsealer feeds key shares to a sealed Vault one at a time, as operators
// type them, reporting progress (k of threshold) as events. It keeps the
// shares entered during this unseal in memory so that a wrong share costs nothing:
// malformed shares are refused before reaching Vault, and after a failed
// combination the next share triggers retries over the shares already
// entered. Discard the Unsealer when done; it holds key material.
type Unsealer struct {
	conn    *Conn
	emit    event.Emitter
	entered [][]byte        // distinct shares entered during this unseal
	round   [][]byte        // shares Vault holds right now (progress), from this unseal
	tried   map[string]bool // combinations (by index into entered) that failed
	failed  bool            // a combination failed; retry on the next share
}

// NewUnsealer starts an unseal session.
func (c *Conn) NewUnsealer(emit event.Emitter) *Unsealer {
	return &Unsealer{conn: c, emit: event.Or(emit), tried: map[string]bool{}}
}

// Submit enters one share and returns Vault's status afterwards.
func (u *Unsealer) Submit(ctx context.Context, share string) (Status, error) {
	raw, err := decodeShare(share)
	if err != nil {
		st, serr := u.conn.Status(ctx)
		return st, errors.Join(err, serr)
	}
	for _, e := range u.entered {
		if bytes.Equal(e, raw) {
			st, serr := u.conn.Status(ctx)
			return st, errors.Join(ErrDuplicateShare, serr)
		}
	}
	st, err := u.conn.Status(ctx)
	if err != nil {
		return st, err
	}
	switch st.State {
	case StateUnsealed:
		u.emit.Info(eventSubject, "Vault is already unsealed")
		return st, nil
	case StateUninitialized:
		return st, errors.New("nothing to unseal: Vault is not initialised")
	}
	if st.Progress == 0 {
		u.round = nil // Vault forgot earlier shares (restart, reset or timeout)
	} else if len(u.round) == 0 {
		u.emit.Info(eventSubject, fmt.Sprintf("%d of %d shares were already entered earlier; continuing", st.Progress, st.Threshold))
	}
	u.entered = append(u.entered, raw)
	if u.failed && len(u.entered) >= st.Threshold {
		return u.retryCombinations(ctx, st.Threshold)
	}
	return u.send(ctx, raw, st)
}

// send submits one share to Vault.
func (u *Unsealer) send(ctx context.Context, raw []byte, before Status) (Status, error) {
	resp, err := u.conn.client.Sys().UnsealWithContext(ctx, base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		after, serr := u.conn.Status(ctx)
		if serr != nil {
			return after, fmt.Errorf("unsealing: %w (and reading the status afterwards failed: %v)", err, serr)
		}
		if before.Progress+1 >= before.Threshold && after.State == StateSealed && after.Progress == 0 {
			u.tried[u.comboKey(append(u.round, raw))] = true
			u.round, u.failed = nil, true
			return after, &WrongShareError{Entered: len(u.entered), Threshold: before.Threshold}
		}
		return after, fmt.Errorf("share refused by Vault: %w (progress kept: %d of %d)", err, after.Progress, after.Threshold)
	}
	u.round = append(u.round, raw)
	st := statusFrom(resp)
	if st.State == StateUnsealed {
		u.emit.Progress(eventSubject, int64(before.Threshold), int64(before.Threshold), unitShares, "Vault unsealed")
		u.failed = false
		return st, nil
	}
	u.emit.Progress(eventSubject, int64(st.Progress), int64(st.Threshold), unitShares, fmt.Sprintf("unseal progress %d of %d", st.Progress, st.Threshold))
	return st, nil
}

// retryCombinations tries every untried threshold-sized combination of the
// entered shares until one unseals Vault.
func (u *Unsealer) retryCombinations(ctx context.Context, threshold int) (Status, error) {
	combos := combinations(len(u.entered), threshold)
	tries := 0
	for _, combo := range combos {
		key := comboKeyOf(combo)
		if u.tried[key] {
			continue
		}
		if tries++; tries > maxCombinationTries {
			break
		}
		u.emit.Info(eventSubject, fmt.Sprintf("trying another combination of the %d shares entered", len(u.entered)))
		if _, err := u.conn.client.Sys().ResetUnsealProcessWithContext(ctx); err != nil {
			return Status{}, fmt.Errorf("resetting unseal progress before retrying: %w", err)
		}
		u.round = nil
		var st Status
		var err error
		for _, i := range combo {
			st, err = u.send(ctx, u.entered[i], Status{State: StateSealed, Progress: len(u.round), Threshold: threshold})
			if err != nil {
				break
			}
		}
		var wrong *WrongShareError
		switch {
		case err == nil && st.State == StateUnsealed:
			return st, nil
		case errors.As(err, &wrong):
			u.tried[key] = true
		case err != nil:
			return st, err
		}
	}
	st, err := u.conn.Status(ctx)
	if err != nil {
		return st, err
	}
	u.failed = true
	return st, &WrongShareError{Entered: len(u.entered), Threshold: threshold}
}

// Reset discards the progress in Vault and the shares entered so far.
func (u *Unsealer) Reset(ctx context.Context) (Status, error) {
	resp, err := u.conn.client.Sys().ResetUnsealProcessWithContext(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("resetting unseal progress: %w", err)
	}
	u.entered, u.round, u.tried, u.failed = nil, nil, map[string]bool{}, false
	st := statusFrom(resp)
	u.emit.Progress(eventSubject, 0, int64(st.Threshold), unitShares, "unseal progress reset")
	return st, nil
}

func (u *Unsealer) comboKey(shares [][]byte) string {
	var idx []int
	for _, s := range shares {
		for i, e := range u.entered {
			if bytes.Equal(e, s) {
				idx = append(idx, i)
			}
		}
	}
	return comboKeyOf(idx)
}

func comboKeyOf(idx []int) string {
	sorted := append([]int(nil), idx...)
	for i := range sorted { // tiny insertion sort; combos are a handful of ints
		for j := i; j > 0 && sorted[j] < sorted[j-1]; j-- {
			sorted[j], sorted[j-1] = sorted[j-1], sorted[j]
		}
	}
	return fmt.Sprint(sorted)
}

// combinations lists the k-element subsets of 0..n-1 in lexicographic order.
func combinations(n, k int) [][]int {
	var out [][]int
	cur := make([]int, 0, k)
	var rec func(start int)
	rec = func(start int) {
		if len(cur) == k {
			out = append(out, append([]int(nil), cur...))
			return
		}
		for i := start; i <= n-(k-len(cur)); i++ {
			cur = append(cur, i)
			rec(i + 1)
			cur = cur[:len(cur)-1]
		}
	}
	rec(0)
	return out
}

// UnsealWithShares enters shares until Vault is unsealed, for unattended
// unseal from the demo custody file.
func (c *Conn) UnsealWithShares(ctx context.Context, shares []string, emit event.Emitter) (Status, error) {
	emit = event.Or(emit)
	u := c.NewUnsealer(emit)
	var st Status
	var err error
	for _, s := range shares {
		st, err = u.Submit(ctx, s)
		if err != nil {
			return st, err
		}
		if st.State == StateUnsealed {
			return st, nil
		}
	}
	return st, fmt.Errorf("still sealed after all %d shares (progress %d of %d): more shares are needed", len(shares), st.Progress, st.Threshold)
}
