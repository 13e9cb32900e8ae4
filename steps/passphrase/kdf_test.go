package passphrase

import (
	"errors"
	"strings"
	"testing"
)

func kdf(time, memory uint32, threads uint8) KDF {
	return KDF{Time: time, Memory: memory, Threads: threads}
}

func TestLimitsAcceptWhatTheInstallerWrites(t *testing.T) {
	if err := Limits.CheckAll([]KDF{DefaultKDF}); err != nil {
		t.Fatalf("the default: %v", err)
	}
	if err := Limits.CheckAll([]KDF{DefaultKDF, DefaultKDF, DefaultKDF, DefaultKDF}); err != nil {
		t.Fatalf("four derivations at the default: %v", err)
	}
	floor := kdf(Limits.MinTime, Limits.MinMemory, 1)
	eight := []KDF{floor, floor, floor, floor, floor, floor, floor, floor}
	if err := Limits.CheckAll(eight); err != nil {
		t.Fatalf("eight derivations at the floor: %v", err)
	}
}

func TestLimitsRefuse(t *testing.T) {
	cases := map[string]struct {
		ks   []KDF
		want string
	}{
		"one pass":          {[]KDF{kdf(1, 64<<10, 4)}, "weaker than the minimum"},
		"too little memory": {[]KDF{kdf(3, 19<<10-1, 4)}, "weaker than the minimum"},
		"no lanes":          {[]KDF{kdf(3, 64<<10, 0)}, "weaker than the minimum"},
		"a fourth pass":     {[]KDF{kdf(4, 64<<10, 4)}, "exceeds the maximum"},
		"more memory":       {[]KDF{kdf(3, 64<<10+1, 4)}, "exceeds the maximum"},
		"more lanes":        {[]KDF{kdf(3, 64<<10, 5)}, "exceeds the maximum"},
		"1 GiB":             {[]KDF{kdf(16, 1<<20, 64)}, "exceeds the maximum"},
		"five at the default": {[]KDF{DefaultKDF, DefaultKDF, DefaultKDF, DefaultKDF, DefaultKDF},
			"5 argon2id derivations cost 983040 KiB-passes together, more than the limit of 786432"},
		"one bad among good": {[]KDF{DefaultKDF, kdf(100, 4<<20, 1)}, "derivation 2 of 2"},
	}
	for name, c := range cases {
		err := Limits.CheckAll(c.ks)
		if !errors.Is(err, ErrKDFRefused) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want ErrKDFRefused saying %q", name, err, c.want)
		}
	}
}

func TestKeyIsDeterministic(t *testing.T) {
	k := kdf(1, 64, 1)
	a, b := k.Key([]byte("pass"), []byte("salt salt salt!!")), k.Key([]byte("pass"), []byte("salt salt salt!!"))
	if len(a) != KeySize || string(a) != string(b) {
		t.Fatalf("key %x, again %x", a, b)
	}
	if c := k.Key([]byte("pass"), []byte("other salt here!")); string(c) == string(a) {
		t.Fatal("the salt does not change the key")
	}
}
