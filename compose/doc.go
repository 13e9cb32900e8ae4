// Package compose loads compose files with compose-go and applies them
// through the Docker Engine API: networks, volumes, images, containers started
// in dependency order with health waits, logs, status and teardown.
//
// Containers carry the labels docker compose uses, so `docker compose -p
// PROJECT ps|logs|down` works on what this package created, and re-applying an
// unchanged project changes nothing. The engine never prints: it reports what
// it does as event.Event values (the resource, the action and where it
// stands) to a caller's event.Emitter, the same events pipeline steps emit;
// a nil emitter discards them.
//
// Up applies nothing a hardening Policy forbids (privileged, capabilities,
// weakened confinement, host namespaces, devices, host paths outside the
// caller's roots, the Docker socket, root where the caller allows none),
// whatever compose file it was given: every service is checked before the
// first network, volume or container is created.
package compose
