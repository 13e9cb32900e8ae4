// Package assets renders the stack's compose project and every configuration
// file from the installer's answers.
//
// The templates are embedded (templates/...) and executed with text/template
// (missingkey=error). Render is pure: it reads nothing but the embedded
// files, so the same answers always give the same bundle. Bundle.Write puts
// the result into the install directory atomically.
//
// Besides the files, a Bundle lists what each rendered service needs from
// the other steps: the certificates the pki step must issue (and for which
// uid), the secrets the vault step must generate and deliver as files, the
// memory it is given, the host ports it publishes and, where the image cannot
// run with a read-only root filesystem or as a non-root user, why not.
//
// STACK.md beside this file documents the groups, networks, images, the
// hardening rules and every exception.
package assets
