package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// registry keeps each file's acknowledged offset in path.data.
type registry struct {
	mu      sync.Mutex
	file    string
	Offsets map[string]int64 `json:"offsets"`
}

func openRegistry(dataDir string) (*registry, error) {
	dir := filepath.Join(dataDir, "registry", "filebeat")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("path.data %s: %w", dataDir, err)
	}
	r := &registry{file: filepath.Join(dir, "standin-offsets.json"), Offsets: map[string]int64{}}
	data, err := os.ReadFile(r.file)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal(data, r); err != nil {
			return nil, fmt.Errorf("registry %s is damaged: %w", r.file, err)
		}
	}
	return r, r.save()
}

func (r *registry) offset(path string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Offsets[path]
}

func (r *registry) set(path string, off int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Offsets[path] = off
	return r.save()
}

func (r *registry) save() error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := os.WriteFile(r.file+".tmp", data, 0o600); err != nil {
		return fmt.Errorf("write the registry: %w", err)
	}
	return os.Rename(r.file+".tmp", r.file)
}

// maxBatch is how many events go to Logstash at once (output.logstash's
// default bulk_max_size is 2048).
const maxBatch = 2048

// harvest scans the inputs' paths every second and ships new lines.
func harvest(ctx context.Context, cfg config, reg *registry, out *logstashOutput) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		for _, in := range cfg.inputs {
			for _, pattern := range in.paths {
				files, _ := filepath.Glob(pattern)
				for _, f := range files {
					if err := ctx.Err(); err != nil {
						return nil
					}
					if !in.symlinks {
						if fi, err := os.Lstat(f); err != nil || fi.Mode()&os.ModeSymlink != 0 {
							continue
						}
					}
					if err := shipFile(ctx, in, cfg, f, reg, out); err != nil {
						log.Printf("harvester %s: %v", f, err)
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// shipFile sends the complete lines after the file's offset, batch by
// batch, and advances the offset after each acknowledged batch. A file
// shorter than its offset was truncated or replaced: it is read again from
// the start.
func shipFile(ctx context.Context, in input, cfg config, path string, reg *registry, out *logstashOutput) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	off := reg.offset(path)
	if fi.Size() < off {
		off = 0
	}
	if fi.Size() == off {
		return nil
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return err
	}
	rd := bufio.NewReaderSize(f, 64<<10)
	var batch []any
	var partial string
	next := off
	flush := func() error {
		if len(batch) == 0 {
			if next != off {
				off = next
				return reg.set(path, off)
			}
			return nil
		}
		if err := out.send(ctx, batch); err != nil {
			return err
		}
		batch = batch[:0]
		off = next
		return reg.set(path, off)
	}
	for {
		line, err := rd.ReadBytes('\n')
		if err != nil {
			// An incomplete last line is read again next time.
			break
		}
		lineStart := next
		next += int64(len(line))
		ev, part, ok := decodeLine(in, line, path, lineStart)
		if !ok {
			continue
		}
		if part {
			partial += ev["message"].(string)
			continue
		}
		if partial != "" {
			ev["message"] = partial + ev["message"].(string)
			partial = ""
		}
		for _, d := range cfg.dissects {
			d.apply(ev)
		}
		batch = append(batch, ev)
		if len(batch) >= maxBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// decodeLine turns one json-file line into an event. part reports a
// partial line (Docker splits lines longer than 16 KiB; their log text
// does not end in a newline).
func decodeLine(in input, line []byte, path string, offset int64) (ev map[string]any, part, ok bool) {
	if !in.docker {
		msg := string(line[:len(line)-1])
		return map[string]any{"@timestamp": time.Now().UTC().Format(time.RFC3339Nano), "message": msg,
			"log": map[string]any{"offset": offset, "file": map[string]any{"path": path}}, "input": map[string]any{"type": "filestream"}}, false, true
	}
	var dl struct {
		Log    string            `json:"log"`
		Stream string            `json:"stream"`
		Time   string            `json:"time"`
		Attrs  map[string]string `json:"attrs"`
	}
	if err := json.Unmarshal(line, &dl); err != nil || dl.Log == "" {
		return nil, false, false
	}
	if in.stream != "all" && in.stream != dl.Stream {
		return nil, false, false
	}
	ts, err := time.Parse(time.RFC3339Nano, dl.Time)
	if err != nil {
		ts = time.Now()
	}
	part = dl.Log[len(dl.Log)-1] != '\n'
	msg := dl.Log
	if !part {
		msg = msg[:len(msg)-1]
	}
	ev = map[string]any{
		"@timestamp": ts.UTC().Format(time.RFC3339Nano),
		"message":    msg,
		"stream":     dl.Stream,
		"log":        map[string]any{"offset": offset, "file": map[string]any{"path": path}},
		"input":      map[string]any{"type": "filestream"},
	}
	// The json-file driver's "labels" option puts the container's labels
	// into attrs; Filebeat's docker_json reader (libbeat/reader/readjson)
	// passes them on as docker.attrs.
	if len(dl.Attrs) > 0 {
		ev["docker"] = map[string]any{"attrs": dl.Attrs}
	}
	return ev, part, true
}
