package vault

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"path/filepath"
	"testing"

	// Deprecated upstream, but enough to play a key holder's gpg in a test:
	// make a key, then decrypt the share Vault encrypted to it.
	//lint:ignore SA1019 stands in for a key holder's gpg in tests only
	"golang.org/x/crypto/openpgp"
)

func TestInitWithPGPKeys(t *testing.T) {
	v := startLabVault(t)
	c := v.conn()
	ctx := testCtx(t)

	holders := make([]*openpgp.Entity, 3)
	opts := InitOptions{Shares: 3, Threshold: 2, Custody: "show"}
	for i := range holders {
		e, err := openpgp.NewEntity("key holder", "", "holder@example.invalid", nil)
		if err != nil {
			t.Fatal(err)
		}
		var pub bytes.Buffer
		if err := e.Serialize(&pub); err != nil {
			t.Fatal(err)
		}
		holders[i] = e
		opts.PGPKeys = append(opts.PGPKeys, base64.StdEncoding.EncodeToString(pub.Bytes()))
	}
	var got *InitResult
	res, err := c.Initialize(ctx, opts, FileRecordStore{Path: filepath.Join(t.TempDir(), "r")},
		func(_ context.Context, r *InitResult) error { got = r; return nil }, nil)
	if err != nil || res == nil || got == nil {
		t.Fatalf("init with PGP keys: %v", err)
	}
	for _, k := range res.Keys {
		if _, err := decodeShare(k); err == nil {
			t.Fatal("a PGP-encrypted share decodes like a plain share")
		}
	}
	u := c.NewUnsealer(nil)
	var st Status
	for i := range 2 {
		share := decryptShare(t, holders[i], res.Keys[i])
		if st, err = u.Submit(ctx, share); err != nil {
			t.Fatalf("decrypted share %d: %v", i+1, err)
		}
	}
	if st.State != StateUnsealed {
		t.Fatalf("state %v after two decrypted shares, want unsealed", st.State)
	}
}

func decryptShare(t *testing.T, holder *openpgp.Entity, encrypted string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil {
		t.Fatal(err)
	}
	md, err := openpgp.ReadMessage(bytes.NewReader(raw), openpgp.EntityList{holder}, nil, nil)
	if err != nil {
		t.Fatalf("decrypting a share: %v", err)
	}
	plain, err := io.ReadAll(md.UnverifiedBody)
	if err != nil {
		t.Fatal(err)
	}
	return string(plain)
}
