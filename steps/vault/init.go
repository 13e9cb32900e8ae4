package vault

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// InitOptions are the key share settings for Vault's one-time init.
type InitOptions struct {
	Shares    int
	Threshold int
	// PGPKeys, if set, holds one base64 public key per share; Vault then
	// returns each share encrypted to its key.
	PGPKeys []string
	// Custody names the custody action for the Record ("show", "file").
	Custody string
}

// ProductionInit is the production default: 5 shares, any 3 unseal.
func ProductionInit() InitOptions { return InitOptions{Shares: 5, Threshold: 3, Custody: "show"} }

// DemoInit is the demo default: a single share kept in the custody file.
func DemoInit() InitOptions { return InitOptions{Shares: 1, Threshold: 1, Custody: "file"} }

func (o InitOptions) validate() error {
	switch {
	case o.Shares < 1 || o.Shares > 255:
		return fmt.Errorf("key shares must be between 1 and 255, got %d", o.Shares)
	case o.Threshold < 1 || o.Threshold > o.Shares:
		return fmt.Errorf("key threshold must be between 1 and the number of shares (%d), got %d", o.Shares, o.Threshold)
	case o.Shares > 1 && o.Threshold < 2:
		return fmt.Errorf("with %d shares the threshold must be at least 2 (Vault refuses a threshold of 1 with several shares)", o.Shares)
	case len(o.PGPKeys) > 0 && len(o.PGPKeys) != o.Shares:
		return fmt.Errorf("%d PGP keys given for %d shares: give one per share or none", len(o.PGPKeys), o.Shares)
	}
	return nil
}

// InitResult is Vault's init output. Vault shows it exactly once: it must
// reach its custody before anything else happens.
type InitResult struct {
	// Keys are the unseal key shares, base64 (PGP-encrypted if PGP keys
	// were given).
	Keys      []string
	RootToken string
	Shares    int
	Threshold int
}

// Custody makes an InitResult durable: show the shares to the operator and
// have them confirm, or write the demo custody file. It returns nil only
// once the shares are safe; Initialize records that fact afterwards.
type Custody func(ctx context.Context, r *InitResult) error

// UnrecordedInitError means Vault is initialised but this installation has
// no record that the key shares were saved. The shares Vault printed at init
// may be lost; the installer stops rather than guess.
type UnrecordedInitError struct {
	Address       string
	InitStartedAt time.Time // zero if this installation never started an init
}

func (e *UnrecordedInitError) Error() string {
	what := "Vault was initialised by something other than this installation"
	if !e.InitStartedAt.IsZero() {
		what = fmt.Sprintf("this installation asked Vault to initialise at %s, but stopped before the key shares were recorded "+
			"(the process was probably killed or the machine lost power right after init)", e.InitStartedAt.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("Vault at %s is already initialised, but there is no record that its unseal key shares were saved: %s. "+
		"Vault shows the shares only once, so the installer will not re-initialise it and will not touch its storage. What you can do: "+
		"(1) if you do have the shares (written down, or in the demo custody file), unseal with them and mark the shares as recorded; "+
		"(2) if they are lost, nothing stored in this Vault can ever be read again: on a fresh install with no data, remove the Vault "+
		"storage volume and run the install again to initialise a new Vault.", e.Address, what)
}

// RecordMismatchError means the record says Vault was initialised, but
// Vault reports it is not: its storage was replaced or wiped.
type RecordMismatchError struct {
	Address          string
	SharesRecordedAt time.Time
}

func (e *RecordMismatchError) Error() string {
	return fmt.Sprintf("the installation record says Vault was initialised and its shares recorded at %s, but Vault at %s reports it is "+
		"not initialised: its storage was replaced or wiped (wrong volume mounted?). The installer will not initialise a second Vault "+
		"over this record. Mount the original Vault storage, or, if starting over is intended, remove the Vault record and rerun.",
		e.SharesRecordedAt.UTC().Format(time.RFC3339), e.Address)
}

// Initialize initialises Vault once, with crash-safe bookkeeping:
//
//  1. Vault initialised and the record says shares recorded: nothing to do,
//     returns (nil, nil).
//  2. Vault initialised, no such record: *UnrecordedInitError.
//  3. Not initialised but the record says it was: *RecordMismatchError.
//  4. Otherwise: save "init started", init, run custody, save "shares
//     recorded", return the result (the root token is needed for setup).
//
// If custody or the final save fails, the result is returned together with
// the error so the caller can retry custody in the same process: it exists
// nowhere else.
func (c *Conn) Initialize(ctx context.Context, opts InitOptions, store RecordStore, custody Custody, emit event.Emitter) (*InitResult, error) {
	emit = event.Or(emit)
	if err := opts.validate(); err != nil {
		return nil, err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	rec, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case st.State != StateUninitialized && rec.SharesRecorded():
		emit.Info(eventSubject, fmt.Sprintf("Vault already initialised (%d shares, threshold %d); shares recorded at %s",
			st.Shares, st.Threshold, rec.SharesRecordedAt.UTC().Format(time.RFC3339)))
		return nil, nil
	case st.State != StateUninitialized:
		return nil, &UnrecordedInitError{Address: c.addr, InitStartedAt: rec.InitStartedAt}
	case rec.SharesRecorded():
		return nil, &RecordMismatchError{Address: c.addr, SharesRecordedAt: rec.SharesRecordedAt}
	}

	if custody == nil {
		return nil, errors.New("not initialising Vault: no custody action was given for its key shares")
	}
	rec = Record{InitStartedAt: time.Now().UTC(), Shares: opts.Shares, Threshold: opts.Threshold, Custody: opts.Custody}
	if err := store.Save(ctx, rec); err != nil {
		return nil, fmt.Errorf("not initialising Vault: could not record that init is starting: %w", err)
	}
	resp, err := c.client.Sys().InitWithContext(ctx, &api.InitRequest{
		SecretShares: opts.Shares, SecretThreshold: opts.Threshold, PGPKeys: opts.PGPKeys,
	})
	if err != nil {
		return nil, fmt.Errorf("initialising Vault at %s: %w", c.addr, err)
	}
	res := &InitResult{Keys: resp.KeysB64, RootToken: resp.RootToken, Shares: opts.Shares, Threshold: opts.Threshold}
	emit.Info(eventSubject, fmt.Sprintf("Vault initialised with %d key shares, threshold %d", opts.Shares, opts.Threshold))

	if err := custody(ctx, res); err != nil {
		return res, fmt.Errorf("initialised, but the key shares are not yet in custody (retry the custody step now; "+
			"the shares exist only in this process): %w", err)
	}
	rec.SharesRecordedAt = time.Now().UTC()
	if err := store.Save(ctx, rec); err != nil {
		return res, fmt.Errorf("the key shares are in custody but recording that failed (retry saving the record now): %w", err)
	}
	emit.Info(eventSubject, "unseal key shares recorded")
	return res, nil
}

// MarkSharesRecorded is the operator's way out of *UnrecordedInitError when
// they do hold the shares: it records custody for an already initialised
// Vault. Call it only after the shares were proven by unsealing with them.
func (c *Conn) MarkSharesRecorded(ctx context.Context, store RecordStore, custody string) error {
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	if st.State != StateUnsealed {
		return fmt.Errorf("vault state is %s: unseal it with the shares first, which proves they are the right ones", st.State)
	}
	rec, err := store.Load(ctx)
	if err != nil {
		return err
	}
	rec.Shares, rec.Threshold, rec.Custody = st.Shares, st.Threshold, custody
	rec.SharesRecordedAt = time.Now().UTC()
	return store.Save(ctx, rec)
}

// ErrShareMismatch is returned by ShowAndConfirm when the operator re-enters
// a share that differs from the one shown.
var ErrShareMismatch = errors.New("the share entered does not match the one shown")

// ShowAndConfirm is the production custody action: show the shares (and
// root token) once, then ask the operator to re-enter one share chosen at
// random, proving it was recorded. ask gets the 0-based share index and
// returns what the operator typed; up to three attempts are allowed.
func ShowAndConfirm(show func(ctx context.Context, r *InitResult) error, ask func(ctx context.Context, index int) (string, error)) Custody {
	return func(ctx context.Context, r *InitResult) error {
		if err := show(ctx, r); err != nil {
			return fmt.Errorf("showing the key shares: %w", err)
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(r.Keys))))
		if err != nil {
			return fmt.Errorf("choosing a share to confirm: %w", err)
		}
		idx := int(n.Int64())
		for attempt := 1; attempt <= 3; attempt++ {
			entered, err := ask(ctx, idx)
			if err != nil {
				return fmt.Errorf("asking for share %d: %w", idx+1, err)
			}
			if sharesEqual(entered, r.Keys[idx]) {
				return nil
			}
		}
		return fmt.Errorf("share %d: %w three times; check how the shares were written down", idx+1, ErrShareMismatch)
	}
}

// sharesEqual compares two shares in either of Vault's encodings (hex or
// base64) in constant time.
func sharesEqual(a, b string) bool {
	ra, errA := decodeShare(a)
	rb, errB := decodeShare(b)
	return errA == nil && errB == nil && subtle.ConstantTimeCompare(ra, rb) == 1
}
