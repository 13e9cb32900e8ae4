package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/backup"
	"github.com/fineract-installer/fineract-installer/steps/backup/archive"
	"github.com/fineract-installer/fineract-installer/steps/backup/wal"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// repositoryDir is --repository, or the repository the installation in
// --dir names in its answers.
func repositoryDir(a *app, flag string) (string, error) {
	if flag != "" {
		return filepath.Abs(flag)
	}
	ans, err := answers.Load(installation.New(a.dir, "").AnswersFile())
	if err != nil {
		return "", usageHint(fmt.Errorf("no backup repository: %s holds no installation to take it from (%v)", a.dir, err),
			"pass --repository DIR, the copied repository")
	}
	return ans.Backup.RepositoryDir(a.dir), nil
}

// backupListDoc is `backup list -o json`.
type backupListDoc struct {
	Repository  string              `json:"repository"`
	BaseBackups []backup.BaseBackup `json:"base_backups"`
	Unreadable  []problemDoc        `json:"unreadable,omitempty"`
	// Window is absent when the repository holds no base backup.
	Window        *backup.Window  `json:"window,omitempty"`
	NewestSegment *backup.Segment `json:"newest_segment,omitempty"`
	WALFiles      int             `json:"wal_files"`
	WALBytes      int64           `json:"wal_bytes"`
	Bytes         int64           `json:"bytes"`
}

// problemDoc is one object that cannot be used, and why.
type problemDoc struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

func problemDocs(ps []wal.Problem) []problemDoc {
	out := make([]problemDoc, 0, len(ps))
	for _, p := range ps {
		out = append(out, problemDoc{Name: p.Name, Reason: p.Reason})
	}
	return out
}

// openRepository reads the repository's base backup headers and finds its
// newest authentic segment with the WAL key of its newest base backup.
func openRepository(repo string, pass []byte) (backupListDoc, []byte, error) {
	doc := backupListDoc{Repository: repo, BaseBackups: []backup.BaseBackup{}}
	bases, bad, err := backup.ListBases(repo, pass)
	if err != nil {
		return doc, nil, withCode(ExitFailed, err)
	}
	doc.BaseBackups, doc.Unreadable = append(doc.BaseBackups, bases...), problemDocs(bad)
	for _, b := range bases {
		doc.Bytes += b.Size
	}
	walRoot, err := os.OpenRoot(backup.WALDir(repo))
	if errors.Is(err, fs.ErrNotExist) {
		return doc, nil, nil
	}
	if err != nil {
		return doc, nil, withCode(ExitFailed, err)
	}
	defer walRoot.Close()
	objs, err := wal.List(walRoot)
	if err != nil {
		return doc, nil, withCode(ExitFailed, err)
	}
	for _, o := range objs {
		doc.WALFiles++
		doc.WALBytes += o.Size
	}
	doc.Bytes += doc.WALBytes
	if len(bases) == 0 {
		return doc, nil, nil
	}
	key, err := backup.ReadWALKey(bases[len(bases)-1].File, pass)
	if err != nil {
		return doc, nil, withCode(ExitFailed, err)
	}
	newest, err := backup.NewestSegment(walRoot, key)
	if err != nil {
		return doc, nil, withCode(ExitFailed, err)
	}
	if newest.Name != "" {
		doc.NewestSegment = &newest
	}
	if w, ok := backup.RestorableWindow(bases, newest); ok {
		doc.Window = &w
	}
	return doc, key, nil
}

func newBackupListCmd(a *app) *cobra.Command {
	var repoFlag, passFile string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show the base backups, the restorable window and the size of the backup repository",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			repo, err := repositoryDir(a, repoFlag)
			if err != nil {
				return err
			}
			pass, err := backupPassphrase(a, passFile, false)
			if err != nil {
				return err
			}
			doc, _, err := openRepository(repo, pass)
			if err != nil {
				return err
			}
			p := a.printer()
			if p.json() {
				return p.record(typeBackupList, doc)
			}
			out := a.io.Out
			fmt.Fprintf(out, "Repository %s: %s (%d base backups, %d WAL files)\n", repo, humanBytes(doc.Bytes), len(doc.BaseBackups), doc.WALFiles)
			if doc.Window != nil {
				fmt.Fprintln(out, doc.Window.String())
			} else {
				fmt.Fprintln(out, p.warn.Render("No base backup: nothing is restorable to a point in time yet."))
			}
			rows := [][]cell{{{text: "FINISHED"}, {text: "SIZE"}, {text: "START WAL"}, {text: "STOP WAL"}, {text: "FILE"}}}
			for i := len(doc.BaseBackups) - 1; i >= 0; i-- {
				b := doc.BaseBackups[i]
				rows = append(rows, []cell{{text: b.Finished.Format(time.RFC3339)}, {text: humanBytes(b.Size)}, {text: b.StartWAL}, {text: b.StopWAL}, {text: filepath.Base(b.File)}})
			}
			printTable(out, rows)
			for _, u := range doc.Unreadable {
				fmt.Fprintf(out, "%s %s: %s\n", p.bad.Render("unreadable"), u.Name, u.Reason)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&repoFlag, "repository", "", "backup repository `DIR` (default: the one the installation's answers name)")
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "`FILE` holding the backup passphrase, one line (mode 0600)")
	return cmd
}

// repositoryVerifyDoc is `backup verify -o json` without FILE.
type repositoryVerifyDoc struct {
	Repository  string          `json:"repository"`
	OK          bool            `json:"ok"`
	BaseBackups []baseVerifyDoc `json:"base_backups"`
	// FromWAL is the oldest base backup's start segment, where the chain
	// must begin; Newest its end.
	FromWAL       string          `json:"from_wal,omitempty"`
	NewestSegment *backup.Segment `json:"newest_segment,omitempty"`
	WALFiles      int             `json:"wal_files"`
	Missing       []string        `json:"missing"`
	MissingCount  uint64          `json:"missing_count"`
	Corrupt       []problemDoc    `json:"corrupt"`
}

// baseVerifyDoc is one base backup checked whole.
type baseVerifyDoc struct {
	File    string `json:"file"`
	OK      bool   `json:"ok"`
	Problem string `json:"problem,omitempty"`
}

// verifyRepository authenticates every base backup whole and every WAL
// object, and checks the chain from the oldest base backup's start to
// the newest segment.
func verifyRepository(repo string, pass []byte) (repositoryVerifyDoc, error) {
	doc := repositoryVerifyDoc{Repository: repo, BaseBackups: []baseVerifyDoc{}, Missing: []string{}, Corrupt: []problemDoc{}}
	list, key, err := openRepository(repo, pass)
	if err != nil {
		return doc, err
	}
	for _, u := range list.Unreadable {
		doc.BaseBackups = append(doc.BaseBackups, baseVerifyDoc{File: filepath.Join(backup.BaseDir(repo), u.Name), Problem: u.Reason})
	}
	for _, b := range list.BaseBackups {
		d := baseVerifyDoc{File: b.File, OK: true}
		if err := verifyArchiveFile(b.File, pass); err != nil {
			d.OK, d.Problem = false, err.Error()
		}
		doc.BaseBackups = append(doc.BaseBackups, d)
	}
	if key == nil {
		doc.OK = len(list.BaseBackups) > 0 && len(list.Unreadable) == 0
		return doc, nil
	}
	walRoot, err := os.OpenRoot(backup.WALDir(repo))
	if err != nil {
		return doc, withCode(ExitFailed, err)
	}
	defer walRoot.Close()
	rep, err := wal.Verify(walRoot, key)
	if err != nil {
		return doc, withCode(ExitFailed, err)
	}
	doc.WALFiles, doc.Corrupt = rep.Objects, append(doc.Corrupt, problemDocs(rep.Corrupt)...)
	oldest := list.BaseBackups[0]
	doc.FromWAL = oldest.StartWAL
	chain := backup.ChainFrom(rep, oldest.StartWAL)
	doc.Missing, doc.MissingCount = append(doc.Missing, chain.Missing...), chain.MissingCount
	if rep.Newest != nil {
		doc.NewestSegment = &backup.Segment{Name: rep.Newest.Name, ArchivedAt: rep.Newest.ArchivedAt}
	}
	doc.OK = len(list.Unreadable) == 0 && doc.MissingCount == 0 && len(doc.Corrupt) == 0
	for _, b := range doc.BaseBackups {
		doc.OK = doc.OK && b.OK
	}
	return doc, nil
}

func verifyArchiveFile(file string, pass []byte) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = archive.Verify(f, pass)
	return err
}

func printRepositoryVerify(a *app, doc repositoryVerifyDoc) error {
	p := a.printer()
	if p.json() {
		if err := p.record(typeRepositoryVerify, doc); err != nil {
			return err
		}
	} else {
		out := a.io.Out
		for _, b := range doc.BaseBackups {
			if b.OK {
				fmt.Fprintf(out, "%s %s\n", p.ok.Render("OK"), b.File)
			} else {
				fmt.Fprintf(out, "%s %s: %s\n", p.bad.Render("BAD"), b.File, b.Problem)
			}
		}
		for _, c := range doc.Corrupt {
			fmt.Fprintf(out, "%s WAL %s: %s\n", p.bad.Render("BAD"), c.Name, c.Reason)
		}
		for _, m := range doc.Missing {
			fmt.Fprintf(out, "%s WAL %s is missing\n", p.bad.Render("MISSING"), m)
		}
		if extra := doc.MissingCount - uint64(len(doc.Missing)); extra > 0 {
			fmt.Fprintf(out, "%s %d more WAL segments are missing\n", p.bad.Render("MISSING"), extra)
		}
		newest := "none"
		if doc.NewestSegment != nil {
			newest = doc.NewestSegment.Name + " (archived " + doc.NewestSegment.ArchivedAt.Format(time.RFC3339) + ")"
		}
		fmt.Fprintf(out, "WAL: %d files from %s to %s\n", doc.WALFiles, doc.FromWAL, newest)
		if doc.OK {
			fmt.Fprintln(out, p.ok.Render("Repository verified."))
		}
	}
	if !doc.OK {
		if len(doc.BaseBackups) == 0 {
			return withCode(ExitFailed, fmt.Errorf("the repository %s holds no base backup", doc.Repository))
		}
		return withCode(ExitFailed, fmt.Errorf("the repository %s has problems (listed above): the restorable window is shorter than it looks", doc.Repository))
	}
	return nil
}
