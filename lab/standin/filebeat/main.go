// Command filebeat-standin is the lab's STAND-IN for Filebeat 8.19.19
// (docker.elastic.co/beats/filebeat). It is not Filebeat: Elastic's images
// cannot be fetched where the lab runs, so the lab image tagged with that
// reference runs this program as /usr/share/filebeat/filebeat, and it
// honours the parts of Filebeat's contract the installer's stack uses:
//
//   - flags -e (log to stderr), --strict.perms (default true: the config
//     file must belong to root or the running user and not be writable by
//     group or others, as libbeat checks), -c FILE;
//   - filebeat.inputs of type filestream: paths (globs), the container
//     parser (format docker: Docker's json-file lines {"log","stream",
//     "time"}, partial lines joined, stream all/stdout/stderr),
//     prospector.scanner.symlinks; the dissect processor (tokenizer with
//     %{key} and %{} on one field, target_prefix);
//   - output.logstash: hosts, ssl.enabled, ssl.verification_mode (full,
//     none), ssl.certificate_authorities, ssl.certificate, ssl.key,
//     ssl.supported_protocols, over the Beats (lumberjack v2) protocol with
//     github.com/elastic/go-lumber, Elastic's own Go implementation; a
//     file's offset advances only once Logstash acknowledged its events;
//   - path.data: offsets kept in path.data/registry/filebeat/ (the
//     stand-in's own JSON file, not Filebeat's log.json format);
//   - http.enabled, http.host, http.port: GET / and GET /stats, for the
//     healthcheck.
//
// Each event carries @timestamp (Docker's time), message, stream,
// docker.attrs (the json-file labels, as libbeat/reader/readjson
// docker_json.go passes them), log.file.path, log.offset, input.type and
// the dissected fields. What it cannot prove: Filebeat's own field set
// beyond these (agent, ecs, host), its registry format,
// back-pressure and memory queue, and every other input, parser, processor
// and output.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/fineract-installer/fineract-installer/lab/standin/internal/flatconf"
)

const version = "8.19.19"

func main() {
	log.SetFlags(0)
	log.SetPrefix("filebeat-standin: ")
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func run() error {
	fs := flag.NewFlagSet("filebeat", flag.ContinueOnError)
	toStderr := fs.Bool("e", false, "log to stderr")
	strict := fs.Bool("strict.perms", true, "check the config file's owner and mode")
	confFile := fs.String("c", "filebeat.yml", "configuration file")
	_ = fs.String("environment", "", "environment (container)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	if !*toStderr {
		log.SetOutput(os.Stdout)
	}
	if *strict {
		if err := checkOwnership(*confFile); err != nil {
			return err
		}
	}
	conf, err := flatconf.Read(*confFile)
	if err != nil {
		return fmt.Errorf("read %s: %w", *confFile, err)
	}
	cfg, err := loadConfig(conf)
	if err != nil {
		return err
	}
	reg, err := openRegistry(cfg.dataDir)
	if err != nil {
		return err
	}
	out, err := newLogstashOutput(conf)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	errc := make(chan error, 2)
	if cfg.httpAddr != "" {
		go func() { errc <- serveHTTP(ctx, cfg.httpAddr, out) }()
	}
	go func() { errc <- harvest(ctx, cfg, reg, out) }()
	log.Printf("stand-in for Filebeat %s started: %d input(s), output to %v", version, len(cfg.inputs), out.hosts)
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

// checkOwnership is libbeat's strict.perms rule: the file belongs to root
// or to the user running the Beat, and only its owner may write it.
func checkOwnership(name string) error {
	fi, err := os.Stat(name)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("config file: cannot read its owner")
	}
	uid := os.Geteuid()
	if int(st.Uid) != 0 && int(st.Uid) != uid {
		return fmt.Errorf(`config file ("%s") must be owned by the user identifier (uid=%d) or root`, name, uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf(`config file ("%s") can only be writable by the owner but the permissions are "%v" (to fix the permissions use: 'chmod go-w %s')`, name, fi.Mode().Perm(), name)
	}
	return nil
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}
