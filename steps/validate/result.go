// Package validate is the checklist that proves each security claim of an
// installation against the running system: every check observes something
// real (a handshake, an inspect, a query) and reports what it saw.
package validate

import "time"

// Status of one check.
type Status string

// Check outcomes.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Area groups checks on the final screen and in the evidence report.
type Area string

// Check areas.
const (
	AreaTLS        Area = "TLS"
	AreaHTTP       Area = "Gateway"
	AreaContainers Area = "Containers"
	AreaNetwork    Area = "Network"
	AreaVault      Area = "Vault"
	AreaPostgres   Area = "PostgreSQL"
	AreaMessaging  Area = "Messaging"
	AreaMonitoring Area = "Monitoring"
	AreaLogging    Area = "Logging"
	AreaSecrets    Area = "Secrets"
	AreaBackups    Area = "Backups"
	AreaHost       Area = "Host"
	AreaAudit      Area = "Audit log"
	AreaIdentity   Area = "Identity" // sign-in through Keycloak
	AreaFineract   Area = "Fineract" // Fineract's own sign-in
)

// Control is the security control a check supports, as named in the
// documents the stack's claims come from.
type Control string

// Controls the evidence report maps checks to.
const (
	ControlSecrets      Control = "Secrets management"
	ControlSegmentation Control = "Network segmentation"
	ControlTransit      Control = "Encryption in transit"
	ControlAtRest       Control = "Encryption at rest"
	ControlHardening    Control = "Container hardening"
	ControlLogging      Control = "Logging and audit"
	ControlBackup       Control = "Backup and recovery"
	ControlSession      Control = "Session management"
	ControlRateLimit    Control = "Rate limiting" // the gateway throttles bursts of requests
	ControlCredentials  Control = "Default credentials"
)

// Result is one check's outcome with the evidence observed.
type Result struct {
	ID       string    `json:"id"`
	Area     Area      `json:"area"`
	Title    string    `json:"title"`
	Status   Status    `json:"status"`
	Evidence string    `json:"evidence"`
	Fix      string    `json:"fix,omitempty"`
	Controls []Control `json:"controls"`
	Subject  string    `json:"subject,omitempty"` // the service or endpoint checked
	Group    string    `json:"group,omitempty"`   // the service group a group-specific check is about
	Observed time.Time `json:"observed"`
}
