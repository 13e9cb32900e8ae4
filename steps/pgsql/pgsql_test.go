package pgsql

import "testing"

func TestPsqlSetQuotesForPsql(t *testing.T) {
	for value, want := range map[string]string{
		"plain":        `\set v 'plain'` + "\n",
		`it's`:         `\set v 'it''s'` + "\n",
		`back\slash`:   `\set v 'back\\slash'` + "\n",
		`:'v' "x" $$;`: `\set v ':''v'' "x" $$;'` + "\n",
	} {
		got, err := psqlSet("v", value)
		if err != nil || got != want {
			t.Errorf("psqlSet(%q) = %q, %v; want %q", value, got, err, want)
		}
	}
	for _, bad := range []string{"two\nlines", "cr\r", "nul\x00"} {
		if _, err := psqlSet("v", bad); err == nil {
			t.Errorf("psqlSet(%q) accepted a value that would end the meta-command", bad)
		}
	}
	if _, err := psqlSet("v; DROP", "x"); err == nil {
		t.Error("a variable name with SQL in it was accepted")
	}
}
