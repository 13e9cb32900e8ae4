package wal

import (
	"fmt"
	"regexp"
	"strconv"
)

// SegmentSize is the WAL segment size the installer's PostgreSQL uses
// (initdb's default, --wal-segsize 16).
const SegmentSize = 16 << 20

// segmentsPerXLogID is how many segments share the middle 8 hex digits of a
// segment name (PostgreSQL's XLogSegmentsPerXLogId: 0x100000000 / segment size).
const segmentsPerXLogID = (1 << 32) / SegmentSize

// Suffix ends the name of every WAL object in the repository.
const Suffix = ".fiwal"

// walName matches the file names PostgreSQL hands archive_command as %f
// (src/include/access/xlog_internal.h: IsXLogFileName, IsPartialXLogFileName,
// IsTLHistoryFileName, IsBackupHistoryFileName).
var walName = regexp.MustCompile(`^(?:[0-9A-F]{24}(?:\.partial|\.[0-9A-F]{8}\.backup)?|[0-9A-F]{8}\.history)$`)

// maxNameLen bounds the name a header may declare: the longest %f above.
const maxNameLen = 24 + 1 + 8 + len(".backup")

// ValidName reports whether name is a file name PostgreSQL archives.
func ValidName(name string) bool { return len(name) <= maxNameLen && walName.MatchString(name) }

// SegmentName is the name of the segment holding lsn on timeline, as
// PostgreSQL's XLogFileName writes it.
func SegmentName(timeline uint32, lsn uint64) string {
	segno := lsn / SegmentSize
	return fmt.Sprintf("%08X%08X%08X", timeline, segno/segmentsPerXLogID, segno%segmentsPerXLogID)
}

// ParseSegmentName returns the timeline and segment number of a complete
// segment's name. It reports false for anything else, including partial
// segments and history files.
func ParseSegmentName(name string) (timeline uint32, segno uint64, ok bool) {
	if len(name) != 24 || !walName.MatchString(name) {
		return 0, 0, false
	}
	tl, err1 := strconv.ParseUint(name[0:8], 16, 32)
	log, err2 := strconv.ParseUint(name[8:16], 16, 32)
	seg, err3 := strconv.ParseUint(name[16:24], 16, 32)
	if err1 != nil || err2 != nil || err3 != nil || seg >= segmentsPerXLogID {
		return 0, 0, false
	}
	return uint32(tl), log*segmentsPerXLogID + seg, true
}

// segmentName is SegmentName from a segment number.
func segmentName(timeline uint32, segno uint64) string {
	return SegmentName(timeline, segno*SegmentSize)
}
