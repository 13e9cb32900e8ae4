package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// metaFile is the file kafka-storage.sh format writes into each log
// directory (Kafka's MetaPropertiesEnsemble).
const metaFile = "meta.properties"

func storageCommand(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("storage: a command is required: random-uuid or format")
	}
	switch args[0] {
	case "random-uuid":
		id, err := randomUUID()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, id)
		return err
	case "format":
		return format(args[1:], out)
	}
	return fmt.Errorf("storage: unknown command %q", args[0])
}

// randomUUID is Kafka's Uuid.randomUuid().toString(): 16 random bytes in
// URL-safe base64 without padding.
func randomUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random uuid: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// validUUID is what Kafka's Uuid.fromString accepts.
func validUUID(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == 16
}

func format(args []string, out io.Writer) error {
	var clusterID, config string
	var ignore bool
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "--ignore-formatted", "-g":
			ignore = true
		case "--cluster-id", "-t", "--config", "-c":
			if i+1 == len(args) {
				return fmt.Errorf("format: %s needs a value", a)
			}
			i++
			if a == "--config" || a == "-c" {
				config = args[i]
			} else {
				clusterID = args[i]
			}
		default:
			return fmt.Errorf("format: unknown argument %q (the stand-in knows --cluster-id, --config, --ignore-formatted)", a)
		}
	}
	if config == "" || clusterID == "" {
		return errors.New("format: --config and --cluster-id are required")
	}
	if !validUUID(clusterID) {
		return fmt.Errorf("format: cluster id %q is not a Kafka Uuid (use kafka-storage.sh random-uuid)", clusterID)
	}
	p, err := readProps(config)
	if err != nil {
		return err
	}
	nodeID := p["node.id"]
	if nodeID == "" {
		return fmt.Errorf("format: %s sets no node.id", config)
	}
	// A controller without a static quorum (controller.quorum.voters) needs
	// one of the dynamic-quorum flags, which the stand-in does not take
	// (apache/kafka core/src/main/scala/kafka/tools/StorageTool.scala).
	if strings.Contains(p["process.roles"], "controller") && len(p.list("controller.quorum.voters")) == 0 {
		return errors.New("because controller.quorum.voters is not set on this controller, you must specify one of the following: --standalone, --initial-controllers, or --no-initial-controllers (not supported by the stand-in)")
	}
	dirs := p.logDirs()
	if len(dirs) == 0 {
		return fmt.Errorf("format: %s sets no log.dirs", config)
	}
	var todo []string
	for _, d := range dirs {
		_, err := os.Stat(filepath.Join(d, metaFile))
		switch {
		case err == nil && ignore:
			continue
		case err == nil:
			return fmt.Errorf("log directory %s is already formatted. Use --ignore-formatted to ignore this directory and format the others", d)
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("format: %w", err)
		}
		todo = append(todo, d)
	}
	if len(todo) == 0 {
		_, err := fmt.Fprintln(out, "All of the log directories are already formatted.")
		return err
	}
	for _, d := range todo {
		dirID, err := randomUUID()
		if err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("format %s: %w", d, err)
		}
		meta := fmt.Sprintf("#\n#Written by kafka-standin\ncluster.id=%s\ndirectory.id=%s\nnode.id=%s\nversion=1\n", clusterID, dirID, nodeID)
		if err := writeFileAtomic(filepath.Join(d, metaFile), []byte(meta)); err != nil {
			return fmt.Errorf("format %s: %w", d, err)
		}
		if _, err := fmt.Fprintf(out, "Formatting data directory %s with metadata.version 4.1-IV1.\n", d); err != nil {
			return err
		}
	}
	return nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// readMeta reads the cluster id from every log directory: all must be
// formatted, with one cluster id, as Kafka requires at start.
func readMeta(dirs []string) (string, error) {
	var cluster string
	for _, d := range dirs {
		p, err := readProps(filepath.Join(d, metaFile))
		if err != nil {
			return "", fmt.Errorf("no readable meta.properties in %s (run kafka-storage.sh format first): %w", d, err)
		}
		id := strings.TrimSpace(p["cluster.id"])
		if cluster != "" && id != cluster {
			return "", fmt.Errorf("log directory %s has cluster id %s, another has %s", d, id, cluster)
		}
		cluster = id
	}
	return cluster, nil
}
