package assets

import "github.com/fineract-installer/fineract-installer/steps/answers"

// Fineract's built-in users. Every tenant database Fineract creates gets
// them from its initial data, all with the password "password":
// m_appuser ids 1 (mifos), 2 (system) and 3 (interopUser), mifos and
// interopUser with the "Super user" role (ALL_FUNCTIONS); system is what
// Fineract's jobs run as and is looked up by name, never by password
// (apache/fineract 4198b0b: fineract-provider/src/main/resources/db/
// changelog/tenant/parts/0002_initial_data.xml, changeSets 26 and 28;
// fineract-provider/.../useradministration/domain/AppUserRepositoryWrapper.java).
const (
	FineractAdminUser       = "mifos"
	FineractDefaultPassword = "password"
	// DefaultTenant is the tenant every installation has
	// (FINERACT_DEFAULT_TENANTDB_IDENTIFIER).
	DefaultTenant = "default"
)

// FineractBuiltinUsers are the users whose default password the installer
// replaces, the administrator last: the change of the others is made with
// the administrator's credentials.
var FineractBuiltinUsers = []string{"interopUser", "system", FineractAdminUser}

// TenantVaultPath is a tenant's secret in Vault: one key per built-in
// user, holding that user's password.
func TenantVaultPath(tenant string) string { return "banking/tenants/" + tenant }

// InstallerName names the one delivery no container reads: a directory
// on the secrets tmpfs, owned by root with mode 0700, holding what only
// the installer needs (the built-in users' passwords it set).
const InstallerName = "installer"

// genAdminPassword is for passwords people type: Fineract's active
// password policy allows at most 50 characters (m_password_validation_policy
// id 1, `^.{1,50}$`, 0002_initial_data.xml changeSet 22), its "secure"
// one and the realm's Keycloak policy want every character class.
var genAdminPassword = Generator{Length: 32, Charset: CharsetPassword}

// InstallerSecretFile is the delivered file holding a tenant user's password.
func InstallerSecretFile(tenant, user string) string { return tenant + "." + user }

// installer is the installer's own delivery: the default tenant's
// built-in users' passwords. With the identity group the administrator's
// password is also that of the Keycloak user of the same name in the
// fineract realm, the one people sign in with.
func installer(answers.Answers) Service {
	svc := Service{Name: InstallerName}
	for _, u := range FineractBuiltinUsers {
		svc.Secrets = append(svc.Secrets, SecretNeed{File: InstallerSecretFile(DefaultTenant, u), VaultPath: TenantVaultPath(DefaultTenant), Key: u,
			Generate: genAdminPassword, Format: FormatRaw})
	}
	return svc
}

// SecretHolders lists everything the vault step delivers secrets to: the
// services, then the installer.
func (b Bundle) SecretHolders() []Service {
	return append(append([]Service(nil), b.Services...), b.Installer)
}

// TenantConnParams are the JDBC parameters of every tenant's database
// connection: TLS, verified against the stack's CA by name.
const TenantConnParams = "sslmode=verify-full&sslrootcert=/etc/fineract/tls/ca.crt"

// TenantConnParams is TenantConnParams for the templates.
func (d *renderData) TenantConnParams() string { return TenantConnParams }
