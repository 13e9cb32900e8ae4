package vault

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

func TestInitWithPGPKeys(t *testing.T) {
	v := startLabVault(t)
	c := v.conn()
	ctx := testCtx(t)

	holders := []*labtest.KeyHolder{labtest.NewKeyHolder(t), labtest.NewKeyHolder(t), labtest.NewKeyHolder(t)}
	opts := InitOptions{Shares: 3, Threshold: 2, Custody: "show"}
	for _, h := range holders {
		opts.PGPKeys = append(opts.PGPKeys, h.PublicKey)
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
		share := holders[i].Decrypt(res.Keys[i])
		if st, err = u.Submit(ctx, share); err != nil {
			t.Fatalf("decrypted share %d: %v", i+1, err)
		}
	}
	if st.State != StateUnsealed {
		t.Fatalf("state %v after two decrypted shares, want unsealed", st.State)
	}
}
