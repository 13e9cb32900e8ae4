package backup

import (
	"strings"
	"testing"
)

// realHistory is a backup history file as PostgreSQL 17 wrote it for
// baseBackupCommand in the lab image.
const realHistory = `START WAL LOCATION: 0/20000028 (file 000000010000000000000020)
STOP WAL LOCATION: 0/20000120 (file 000000010000000000000020)
CHECKPOINT LOCATION: 0/20000080
BACKUP METHOD: streamed
BACKUP FROM: primary
START TIME: 2026-12-04 03:15:46 UTC
LABEL: fineract-installer base backup 20261204T031500Z
START TIMELINE: 1
STOP TIME: 2026-12-04 03:15:46 UTC
STOP TIMELINE: 1
`

func TestParseBackupHistory(t *testing.T) {
	h, err := parseBackupHistory([]byte(realHistory))
	if err != nil {
		t.Fatal(err)
	}
	want := historyFacts{startWAL: "000000010000000000000020", stopWAL: "000000010000000000000020", startLSN: "0/20000028", stopLSN: "0/20000120", timeline: 1}
	if h != want {
		t.Errorf("parsed %+v; want %+v", h, want)
	}
}

func TestParseBackupHistoryRefusesWhatIsNotOne(t *testing.T) {
	for name, text := range map[string]string{
		"no stop":           strings.Replace(realHistory, "STOP WAL", "STOPPED WAL", 1),
		"two starts":        realHistory + "START WAL LOCATION: 0/30000028 (file 000000010000000000000030)\n",
		"other timeline":    strings.Replace(realHistory, "START TIMELINE: 1", "START TIMELINE: 2", 1),
		"stop before start": strings.Replace(realHistory, "(file 000000010000000000000020)\nCHECK", "(file 00000001000000000000001F)\nCHECK", 1),
		"not a segment":     strings.Replace(realHistory, "file 000000010000000000000020)\nSTOP", "file ../../etc/passwd000000000)\nSTOP", 1),
		"too long":          realHistory + strings.Repeat("x", maxHistoryLen),
	} {
		if h, err := parseBackupHistory([]byte(text)); err == nil {
			t.Errorf("%s: parsed %+v", name, h)
		}
	}
}

func TestBaseFromLabelsRefusesWhatIsNotABaseBackup(t *testing.T) {
	good := map[string]string{labelKind: kindBase, labelStartWAL: "000000010000000000000020", labelStopWAL: "000000010000000000000021",
		labelTimeline: "1", labelStarted: "2026-12-04T03:15:46Z", labelFinished: "2026-12-04T03:16:00Z"}
	if _, err := baseFromLabels(good); err != nil {
		t.Fatal(err)
	}
	for _, drop := range []string{labelKind, labelStartWAL, labelFinished, labelTimeline} {
		l := map[string]string{}
		for k, v := range good {
			if k != drop {
				l[k] = v
			}
		}
		if _, err := baseFromLabels(l); err == nil {
			t.Errorf("labels without %s read as a base backup", drop)
		}
	}
}
