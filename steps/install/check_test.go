package install

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/compose/composetest"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/steps/vault"
)

// The Checks below decide whether a rerun skips a step. Each case sets up
// what a run (or an interrupted one, or a hand edit) leaves behind and
// says what the Check must decide; none needs a Docker engine.

// checkEnv is the environment of an installation in a new directory, with
// the given service groups, and e as its engine (nil: none).
func checkEnv(t *testing.T, e *compose.Engine, groups ...string) *Env {
	t.Helper()
	a := answers.Defaults(answers.Production)
	a.Host.Hostname = "bank.example.test"
	a.InstallDir = filepath.Join(t.TempDir(), "stack")
	if len(groups) > 0 {
		a.Groups = groups
	}
	env, err := NewEnv(a, "checktest", a.InstallDir, filepath.Join(t.TempDir(), "secrets"), e)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// checkCase is one state of the host and the decision a Check must make.
type checkCase struct {
	name  string
	setup func(t *testing.T, env *Env)
	done  bool
}

// runChecks gives each case a fresh installation, sets it up and asks
// step(env)'s Check.
func runChecks(t *testing.T, newEnv func(t *testing.T) *Env, step func(env *Env) steps.Step, cases []checkCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newEnv(t)
			if c.setup != nil {
				c.setup(t, env)
			}
			done, err := step(env).Check(ctxT(t))
			if err != nil || done != c.done {
				t.Errorf("Check = %v, %v; want %v, nil", done, err, c.done)
			}
		})
	}
}

// ran runs the step as the runner would, for the state a finished step
// leaves behind.
func ran(s func(env *Env) steps.Step) func(t *testing.T, env *Env) {
	return func(t *testing.T, env *Env) {
		t.Helper()
		if err := s(env).Run(ctxT(t), (&emitted{}).emitter()); err != nil {
			t.Fatalf("%s: %v", s(env).ID(), err)
		}
	}
}

// then runs setups in order.
func then(fs ...func(t *testing.T, env *Env)) func(t *testing.T, env *Env) {
	return func(t *testing.T, env *Env) {
		for _, f := range fs {
			f(t, env)
		}
	}
}

func noEngine(t *testing.T) *Env { return checkEnv(t, nil) }

func TestInstallDirCheck(t *testing.T) {
	step := func(env *Env) steps.Step { return InstallDirStep{Env: env} }
	answersAt := func(env *Env) string { return env.AnswersFile() }
	runChecks(t, noEngine, step, []checkCase{
		{"no directory", nil, false},
		{"directory someone else made", func(t *testing.T, env *Env) {
			must(t, os.MkdirAll(env.Dir, 0o755))
			must(t, os.WriteFile(filepath.Join(env.Dir, "notes.txt"), []byte("mine\n"), 0o600))
		}, false},
		{"marked, answers not yet saved (interrupted)", func(t *testing.T, env *Env) { must(t, installdir.Mark(env.Dir)) }, false},
		{"done", ran(step), true},
		{"answers edited by hand", then(ran(step), func(t *testing.T, env *Env) {
			data, err := os.ReadFile(answersAt(env))
			must(t, err)
			must(t, os.WriteFile(answersAt(env), append(data, "# edited\n"...), 0o640))
		}), false},
		{"answers changed since", then(ran(step), func(t *testing.T, env *Env) { env.Answers.Host.Hostname = "other.example.test" }), false},
		{"answers removed", then(ran(step), func(t *testing.T, env *Env) { must(t, os.Remove(answersAt(env))) }), false},
	})
}

func TestRenderCheck(t *testing.T) {
	step := func(env *Env) steps.Step { return RenderStep{Env: env} }
	runChecks(t, noEngine, step, []checkCase{
		{"nothing written", nil, false},
		{"done", ran(step), true},
		{"compose file edited", then(ran(step), func(t *testing.T, env *Env) {
			must(t, os.WriteFile(env.ComposeFile(), []byte("services: {}\n"), 0o644))
		}), false},
		{"a file's mode changed", then(ran(step), func(t *testing.T, env *Env) {
			fi, err := os.Stat(env.ComposeFile())
			must(t, err)
			must(t, os.Chmod(env.ComposeFile(), fi.Mode().Perm()^0o004))
		}), false},
		{"a file removed", then(ran(step), func(t *testing.T, env *Env) { must(t, os.Remove(env.ComposeFile())) }), false},
		// With WAL archiving (production's default) the repository and the
		// binary PostgreSQL's archive_command runs belong to the render.
		{"WAL repository removed", then(ran(step), func(t *testing.T, env *Env) {
			must(t, os.RemoveAll(env.Answers.Backup.RepositoryDir(env.Dir)))
		}), false},
		{"WAL directory given to another uid", then(ran(step), func(t *testing.T, env *Env) {
			must(t, os.Chown(filepath.Join(env.Answers.Backup.RepositoryDir(env.Dir), "wal"), 0, 0))
		}), false},
		{"another installer build in libexec", then(ran(step), func(t *testing.T, env *Env) {
			must(t, os.WriteFile(filepath.Join(env.Dir, "libexec", "fineract-installer"), []byte("old build"), 0o755))
		}), false},
		{"answers changed since", then(ran(step), func(t *testing.T, env *Env) {
			a := env.Answers
			a.Gateway.HTTPSPort++
			b, err := assets.Render(a, assets.Options{Project: env.Project, SecretsDir: env.SecretsDir})
			must(t, err)
			env.Bundle = b
		}), false},
	})
}

func TestCertificatesCheck(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the certificates step gives each key to its service's uid: needs root")
	}
	// Messaging makes Fineract's combined key+chain file, identity its
	// Java trust store: the derived files are checked too.
	withExtras := func(t *testing.T) *Env {
		return checkEnv(t, nil, answers.GroupCore, answers.GroupMessaging, answers.GroupIdentity)
	}
	step := func(env *Env) steps.Step { return CertificatesStep{Env: env} }
	pki := func(env *Env, name string) string { return filepath.Join(env.PKIDir(), name) }
	runChecks(t, withExtras, step, []checkCase{
		{"nothing issued", nil, false},
		{"done", ran(step), true},
		{"a service's certificate removed", then(ran(step), func(t *testing.T, env *Env) { must(t, os.Remove(pki(env, "postgres.crt"))) }), false},
		{"hostname changed since", then(ran(step), func(t *testing.T, env *Env) {
			env.Answers.Host.Hostname = "other.example.test"
			b, err := assets.Render(env.Answers, assets.Options{Project: env.Project, SecretsDir: env.SecretsDir})
			must(t, err)
			env.Bundle = b
		}), false},
		{"certificates near their end", then(ran(step), func(t *testing.T, env *Env) {
			env.Now = func() time.Time { return time.Now().AddDate(5, 0, 0) }
		}), false},
		{"combined key file changed", then(ran(step), func(t *testing.T, env *Env) {
			must(t, os.WriteFile(pki(env, "fineract.pem"), []byte("stale\n"), 0o600))
		}), false},
		{"combined key file removed", then(ran(step), func(t *testing.T, env *Env) { must(t, os.Remove(pki(env, "fineract.pem"))) }), false},
		{"trust store holds another CA", then(ran(step), func(t *testing.T, env *Env) {
			other := checkEnv(t, nil, answers.GroupCore, answers.GroupIdentity)
			ran(step)(t, other)
			data, err := os.ReadFile(pki(other, assets.TrustStoreFile))
			must(t, err)
			must(t, os.WriteFile(pki(env, assets.TrustStoreFile), data, 0o644))
		}), false},
	})
}

func TestImagesCheck(t *testing.T) {
	// Every image of the stack is on the (fake) engine.
	withImages := func(t *testing.T) *Env {
		a := composetest.New()
		env := checkEnv(t, composetest.Engine(a))
		for _, r := range env.serviceRefs() {
			a.Images[r.Image] = "sha256:" + r.Service
		}
		return env
	}
	images := func(env *Env) map[string]string { return env.Engine.API().(*composetest.API).Images }
	step := func(env *Env) steps.Step { return ImagesStep{Env: env} }
	record := func(t *testing.T, env *Env) {
		found, err := env.LocalImages(ctxT(t))
		must(t, err)
		rec, _, err := ImageRecord{}.update(found, nil, time.Now())
		must(t, err)
		must(t, os.MkdirAll(env.Dir, 0o700))
		must(t, rec.Save(env.Dir))
	}
	edit := func(f func(rec *ImageRecord)) func(t *testing.T, env *Env) {
		return func(t *testing.T, env *Env) {
			rec, _, err := LoadImageRecord(env.Dir)
			must(t, err)
			f(&rec)
			must(t, rec.Save(env.Dir))
		}
	}
	runChecks(t, withImages, step, []checkCase{
		{"no record (first install)", nil, false},
		{"recorded, every image here", record, true},
		{"an image is missing", then(record, func(t *testing.T, env *Env) {
			delete(images(env), env.serviceRefs()[0].Image)
		}), false},
		{"an image is not the recorded one", then(record, func(t *testing.T, env *Env) {
			images(env)[env.serviceRefs()[0].Image] = "sha256:replaced"
		}), false},
		{"the record lacks a service", then(record, edit(func(rec *ImageRecord) { delete(rec.Services, "vault") })), false},
		{"the record has a service the stack lacks", then(record, edit(func(rec *ImageRecord) {
			rec.Services["retired"] = RecordedImage{Image: "retired:1", ID: "sha256:retired", Recorded: time.Now()}
		})), false},
		{"the record is damaged", then(record, func(t *testing.T, env *Env) {
			must(t, os.WriteFile(env.ImageRecordFile(), []byte("{not json"), 0o600))
		}), false},
	})
}

// Steps that act on every run never say they are done.
func TestStepsThatAlwaysRun(t *testing.T) {
	env := noEngine(t)
	for _, s := range []steps.Step{
		PreflightStep{Env: env}, RotateStep{}, UninstallStep{}, ValidateStep{Env: env},
	} {
		if done, err := s.Check(context.Background()); done || err != nil {
			t.Errorf("%s: Check = %v, %v; want false, nil", s.ID(), done, err)
		}
	}
}

// The steps that compare the rendered stack with the engine are not done
// while the stack is not rendered, and not done on an engine that lacks
// the stack's networks, images and containers.
func TestEngineStepsCheck(t *testing.T) {
	for _, step := range []func(env *Env) steps.Step{
		func(env *Env) steps.Step { return NetworksStep{Env: env} },
		func(env *Env) steps.Step { return VaultStartStep{Env: env} },
		func(env *Env) steps.Step { return ServicesStep{Env: env} },
	} {
		t.Run(step(noEngine(t)).ID(), func(t *testing.T) {
			runChecks(t, func(t *testing.T) *Env { return checkEnv(t, composetest.Engine(composetest.New())) }, step, []checkCase{
				{"not rendered", nil, false},
				{"rendered, nothing on the engine", ran(func(env *Env) steps.Step { return RenderStep{Env: env} }), false},
			})
		})
	}
}

func TestVaultSetupCheck(t *testing.T) {
	step := func(env *Env) steps.Step { return VaultSetupStep{Env: env} }
	save := func(r vault.Record) func(t *testing.T, env *Env) {
		return func(t *testing.T, env *Env) {
			must(t, os.MkdirAll(env.VaultDir(), 0o700))
			must(t, env.RecordStore().Save(ctxT(t), r))
		}
	}
	now := time.Now()
	runChecks(t, noEngine, step, []checkCase{
		{"never initialised", nil, false},
		{"initialised, shares recorded, root token not yet revoked (interrupted)",
			save(vault.Record{InitStartedAt: now, SharesRecordedAt: now, Shares: 5, Threshold: 3}), false},
		{"record damaged", func(t *testing.T, env *Env) {
			must(t, os.MkdirAll(env.VaultDir(), 0o700))
			must(t, os.WriteFile(env.RecordStore().Path, []byte("{"), 0o600))
		}, false},
		// Setup finished once, but Vault cannot be asked whether it is
		// unsealed (no CA here, no engine): not done.
		{"set up, Vault not reachable", save(vault.Record{InitStartedAt: now, SharesRecordedAt: now, RootRevokedAt: now}), false},
	})
}

func TestFrontDoorCheck(t *testing.T) {
	step := func(env *Env) steps.Step { return FrontDoorStep{Env: env} }
	door := func(d TenantDoor) func(t *testing.T, env *Env) {
		return func(t *testing.T, env *Env) {
			must(t, os.MkdirAll(env.Dir, 0o700))
			must(t, env.SaveFrontDoor(FrontDoorRecord{Tenants: map[string]TenantDoor{assets.DefaultTenant: d}}))
		}
	}
	now := time.Now()
	runChecks(t, noEngine, step, []checkCase{
		{"no record", nil, false},
		{"passwords set, not handed out (interrupted)", door(TenantDoor{SetAt: now}), false},
		{"handed out, not recorded as set", door(TenantDoor{HandedOutAt: now}), false},
		{"record damaged", func(t *testing.T, env *Env) {
			must(t, os.MkdirAll(env.Dir, 0o700))
			must(t, os.WriteFile(env.FrontDoorFile(), []byte("["), 0o600))
		}, false},
		// Recorded, but Fineract cannot prove the default login is closed.
		{"recorded, Fineract not reachable", door(TenantDoor{SetAt: now, HandedOutAt: now}), false},
	})
}

func TestLogRetentionCheck(t *testing.T) {
	step := func(env *Env) steps.Step { return LogRetentionStep{Env: env} }
	runChecks(t, noEngine, step, []checkCase{{"no logging group: nothing to do", nil, true}})
	withLogging := func(t *testing.T) *Env { return checkEnv(t, nil, answers.GroupCore, answers.GroupLogging) }
	runChecks(t, withLogging, step, []checkCase{
		{"logging group, Elasticsearch not reachable", nil, false},
	})
}

func TestTenantTLSCheck(t *testing.T) {
	step := func(env *Env) steps.Step { return TenantTLSStep{Env: env} }
	runChecks(t, func(t *testing.T) *Env { return checkEnv(t, composetest.Engine(composetest.New())) }, step, []checkCase{
		{"PostgreSQL not running", nil, false},
	})
}
