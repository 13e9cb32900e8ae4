// Package tenants adds, lists and removes Fineract tenants on an installed
// stack, and snapshots and resets their databases for classrooms.
//
// A Fineract tenant is a row in the tenant store (database
// fineract_tenants, tables tenants and tenant_server_connections) that
// names the tenant's own database and how to reach it. For each tenant
// this package makes a PostgreSQL role and a database of the same name
// (fineract_t_<name>; the default tenant keeps fineract_default and role
// fineract), keeps the role's password in Vault, and registers the tenant
// in the store the way Fineract's own Liquibase changelog does for the
// default tenant.
//
// Facts about Fineract used here, from apache/fineract at commit
// 4198b0bcf9a94e1c7aa0f386317ba71f40ceb1d9 (develop, 2024-10-24):
//
//   - Store columns: fineract-provider/src/main/resources/db/changelog/
//     tenant-store/parts/0001_initial_schema.xml (tables, defaults),
//     0004 (readonly_* columns, NULL when unused), 0006 (retry columns
//     dropped), 0007 (schema_password varchar(255), master_password_hash).
//   - schema_password is encrypted: fineract-core/src/main/java/org/apache/
//     fineract/infrastructure/security/utils/EncryptionUtil.java
//     (see EncryptPassword).
//   - master_password_hash is BCrypt of the master password and is checked
//     before a tenant's pool is made: fineract-core/.../core/service/
//     database/DatabasePasswordEncryptor.java (getPasswordHash,
//     isMasterPasswordHashValid) and DataSourcePerTenantServiceFactory.java
//     (createNewDataSourceFor).
//   - A tenant's schema is created and upgraded by Liquibase only at start:
//     fineract-provider/src/main/java/org/apache/fineract/infrastructure/
//     core/service/migration/TenantDatabaseUpgradeService.java is an
//     InitializingBean whose afterPropertiesSet upgrades the store and then
//     every tenant findAllTenants returns. A tenant registered at run time is
//     found per request (JdbcTenantDetailsService.loadTenantById), but its
//     database stays empty until Fineract restarts, so Add restarts it.
//   - Connections are pooled per tenant connection id by Hikari
//     (TomcatJdbcDataSourcePerTenantService, DataSourcePerTenantServiceFactory);
//     a pool replaces connections the server closed, so a reset, which
//     terminates them, needs no restart.
package tenants
