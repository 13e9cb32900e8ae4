package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Users of a tenant, as Fineract serves them (apache/fineract, read at
// develop 4198b0b (2024-10); paths below fineract-provider/src/main/java/
// org/apache/fineract/ unless they name fineract-core).

// appUser is a row of m_appuser with its roles and permission codes.
type appUser struct {
	ID                    int64
	Username              string
	Firstname, Lastname   string
	Email                 string
	OfficeID              int64
	OfficeName            string
	OfficeHierarchy       string
	Password              string
	Deleted, Enabled      bool
	NonExpired, NonLocked bool
	NonExpiredCredentials bool
	PasswordNeverExpires  bool
	SelfService           bool
	CannotChangePassword  bool
	Roles                 []roleData
	Permissions           []string
}

// roleData is RoleData as the user resources serialise it.
type roleData struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Disabled    bool   `json:"disabled"`
}

const userColumns = `u.id, u.username, u.firstname, u.lastname, u.email, u.office_id, o.name, coalesce(o.hierarchy, '.'), u.password,
	u.is_deleted, u.enabled, u.nonexpired, u.nonlocked, u.nonexpired_credentials, u.password_never_expires,
	u.is_self_service_user, coalesce(u.cannot_change_password, false)
	FROM m_appuser u JOIN m_office o ON o.id = u.office_id`

func scanUser(ctx context.Context, db *pgxpool.Pool, r pgx.Row) (appUser, error) {
	var u appUser
	if err := r.Scan(&u.ID, &u.Username, &u.Firstname, &u.Lastname, &u.Email, &u.OfficeID, &u.OfficeName, &u.OfficeHierarchy, &u.Password,
		&u.Deleted, &u.Enabled, &u.NonExpired, &u.NonLocked, &u.NonExpiredCredentials, &u.PasswordNeverExpires,
		&u.SelfService, &u.CannotChangePassword); err != nil {
		return u, err
	}
	rows, err := db.Query(ctx, `SELECT r.id, r.name, r.description, r.is_disabled FROM m_appuser_role ur JOIN m_role r ON r.id = ur.role_id
		WHERE ur.appuser_id = $1 ORDER BY r.id`, u.ID)
	if err != nil {
		return u, fmt.Errorf("roles of user %d: %w", u.ID, err)
	}
	if u.Roles, err = pgx.CollectRows(rows, pgx.RowToStructByPos[roleData]); err != nil {
		return u, fmt.Errorf("roles of user %d: %w", u.ID, err)
	}
	rows, err = db.Query(ctx, `SELECT DISTINCT p.code FROM m_appuser_role ur JOIN m_role_permission rp ON rp.role_id = ur.role_id
		JOIN m_permission p ON p.id = rp.permission_id WHERE ur.appuser_id = $1 ORDER BY p.code`, u.ID)
	if err != nil {
		return u, fmt.Errorf("permissions of user %d: %w", u.ID, err)
	}
	if u.Permissions, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return u, fmt.Errorf("permissions of user %d: %w", u.ID, err)
	}
	return u, nil
}

// userByName is TenantAwareJpaPlatformUserDetailsService.loadUserByUsername:
// active users only (is_deleted false, enabled true).
func userByName(ctx context.Context, db *pgxpool.Pool, name string) (appUser, error) {
	return scanUser(ctx, db, db.QueryRow(ctx, `SELECT `+userColumns+` WHERE u.username = $1 AND NOT u.is_deleted AND u.enabled`, name))
}

func userByID(ctx context.Context, db *pgxpool.Pool, id int64) (appUser, error) {
	return scanUser(ctx, db, db.QueryRow(ctx, `SELECT `+userColumns+` WHERE u.id = $1`, id))
}

// authenticateUser is Spring's DaoAuthenticationProvider over that lookup:
// the account must be unlocked and unexpired, its credentials unexpired,
// and the password must match. Every failure is the same to the caller.
func authenticateUser(ctx context.Context, db *pgxpool.Pool, name, password string) (appUser, bool, error) {
	u, err := userByName(ctx, db, name)
	if errors.Is(err, pgx.ErrNoRows) {
		// DaoAuthenticationProvider.mitigateAgainstTimingAttack: an unknown
		// name costs a password check too.
		if h, herr := timingHash(); herr == nil {
			passwordMatches(password, h)
		}
		return u, false, nil
	}
	if err != nil {
		return u, false, fmt.Errorf("load user: %w", err)
	}
	ok := u.NonLocked && u.NonExpired && u.NonExpiredCredentials && passwordMatches(password, u.Password)
	return u, ok, nil
}

// timingHash is a bcrypt value to check passwords of unknown users against.
var timingHash = sync.OnceValues(func() (string, error) { return encodePassword("userNotFoundPassword") })

// hasAnyPermission is AppUser.hasAnyPermission: ALL_FUNCTIONS grants all.
func (u appUser) hasAnyPermission(codes ...string) bool {
	if slices.Contains(u.Permissions, "ALL_FUNCTIONS") {
		return true
	}
	for _, c := range codes {
		if slices.Contains(u.Permissions, c) {
			return true
		}
	}
	return false
}

// userJSON is AppUserData as GET /users and GET /users/{id} give it.
func userJSON(u appUser) map[string]any {
	roles := u.Roles
	if roles == nil {
		roles = []roleData{}
	}
	return map[string]any{
		"id": u.ID, "username": u.Username, "officeId": u.OfficeID, "officeName": u.OfficeName,
		"firstname": u.Firstname, "lastname": u.Lastname, "email": u.Email,
		"passwordNeverExpires": u.PasswordNeverExpires, "selectedRoles": roles, "isSelfServiceUser": u.SelfService,
	}
}

// listUsers is GET /api/v1/users (UsersApiResource.retrieveAll →
// AppUserReadPlatformServiceImpl.retrieveAllUsers): READ_USER needed
// (validateHasReadPermission), users of the caller's office and below that
// are not deleted, by username.
func (s *server) listUsers(w http.ResponseWriter, r *http.Request, db *pgxpool.Pool, caller appUser) {
	if !caller.hasAnyPermission("ALL_FUNCTIONS_READ", "READ_USER") {
		notAuthorized(w, "User has no authority to view users")
		return
	}
	rows, err := db.Query(r.Context(), `SELECT u.id FROM m_appuser u JOIN m_office o ON o.id = u.office_id
		WHERE o.hierarchy LIKE $1 AND NOT u.is_deleted ORDER BY u.username`, caller.OfficeHierarchy+"%")
	if err != nil {
		s.dbError(w, err)
		return
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		s.dbError(w, err)
		return
	}
	out := []map[string]any{}
	for _, id := range ids {
		u, err := userByID(r.Context(), db, id)
		if err != nil {
			s.dbError(w, err)
			return
		}
		out = append(out, userJSON(u))
	}
	writeJSON(w, http.StatusOK, out)
}

// getUser is GET /api/v1/users/{userId} (retrieveUser): a user may read
// itself; others need READ_USER. Deleted or missing: 404.
func (s *server) getUser(w http.ResponseWriter, r *http.Request, db *pgxpool.Pool, caller appUser, id int64) {
	if id != caller.ID && !caller.hasAnyPermission("ALL_FUNCTIONS_READ", "READ_USER") {
		notAuthorized(w, "User has no authority to view users")
		return
	}
	u, err := userByID(r.Context(), db, id)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && u.Deleted) {
		userNotFound(w, id)
		return
	}
	if err != nil {
		s.dbError(w, err)
		return
	}
	body := userJSON(u)
	var available []roleData
	rows, err := db.Query(r.Context(), `SELECT id, name, description, is_disabled FROM m_role ORDER BY id`)
	if err == nil {
		available, err = pgx.CollectRows(rows, pgx.RowToStructByPos[roleData])
	}
	if err != nil {
		s.dbError(w, err)
		return
	}
	body["availableRoles"] = slices.DeleteFunc(available, func(x roleData) bool { return slices.Contains(u.Roles, x) })
	writeJSON(w, http.StatusOK, body)
}

// userNotFound is UserNotFoundException(id).
func userNotFound(w http.ResponseWriter, id int64) {
	notFound(w, "error.msg.user.id.invalid", "User with ID "+strconv.FormatInt(id, 10)+" does not exist", id)
}

// updateParameters is UserDataValidator.SUPPORTED_PARAMETERS.
var updateParameters = []string{"username", "firstname", "lastname", "password", "repeatPassword", "email", "officeId",
	"notSelectedRoles", "roles", "sendPasswordToEmail", "staffId", "passwordNeverExpires", "isSelfServiceUser", "clients"}

// updateImplemented are the parameters the stand-in can change; the other
// supported ones are refused with a stand-in error (see updateUser).
var updateImplemented = []string{"username", "firstname", "lastname", "password", "repeatPassword", "email"}

// numberOfPreviousPasswords is AppUserApiConstant.numberOfPreviousPasswords.
const numberOfPreviousPasswords = 3

// jsonObject is a request body's members in their order (Gson's
// LinkedTreeMap keeps it, so Fineract reports unsupported parameters in
// request order).
type jsonObject struct {
	keys   []string
	values map[string]json.RawMessage
}

func parseObject(body []byte) (jsonObject, bool) {
	o := jsonObject{values: map[string]json.RawMessage{}}
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return o, false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return o, false
		}
		k, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return o, false
		}
		if _, dup := o.values[k]; !dup {
			o.keys = append(o.keys, k)
		}
		o.values[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return o, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return o, false
	}
	return o, true
}

func (o jsonObject) has(k string) bool { _, ok := o.values[k]; return ok }

// str is FromJsonHelper.extractStringNamed: a JSON primitive's text, nil
// for null or absent.
func (o jsonObject) str(k string) *string {
	raw, ok := o.values[k]
	if !ok || string(raw) == "null" {
		return nil
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	return &s
}

// updateUser is PUT /api/v1/users/{userId}: UsersApiResource.update →
// PortfolioCommandSourceWritePlatformServiceImpl.logCommandSource →
// AppUserWritePlatformServiceJpaRepositoryImpl.updateUser, in their order:
//
//  1. a user updating another user needs UPDATE_USER (or ALL_FUNCTIONS):
//     else 403 NoAuthorizationException "User has no authority to:
//     UPDATE_USER"; a user may always update itself (isUpdateOfOwnUserDetails);
//  2. UserDataValidator.validateForUpdate: a blank body is 400
//     InvalidJsonException; parameters outside SUPPORTED_PARAMETERS are 400
//     error.msg.parameter.unsupported; password must match the ACTIVE
//     m_password_validation_policy regex and equal repeatPassword (400);
//     a caller without UPDATE_USER may change only password and
//     repeatPassword (400 not.enough.permission.to.update.fields);
//  3. a missing user is 404 error.msg.user.id.invalid;
//  4. getCurrentPasswordToSaveAsPreview: the new password's FRESH encoding
//     is compared as a string with the user's last 3 previous passwords
//     (403 error.msg.password.already.used on a match). With bcrypt's
//     random salt a fresh encoding never equals a stored one, so Fineract
//     accepts a previous password again, and so does the stand-in;
//  5. AppUser.update/updatePassword: cannot_change_password refuses (403
//     "Password of this user may not be modified"); the new password is
//     stored "{bcrypt}...", firsttime_login_remaining false,
//     last_time_password_updated today, and the old one goes to
//     m_appuser_previous_password;
//  6. 200 CommandProcessingResult {"officeId", "resourceId", "changes"},
//     changes holding "passwordEncoded" (the new stored value) and every
//     other changed field.
func (s *server) updateUser(w http.ResponseWriter, r *http.Request, db *pgxpool.Pool, caller appUser, id int64) {
	ctx := r.Context()
	if id != caller.ID && !caller.hasAnyPermission("UPDATE_USER") {
		notAuthorized(w, "User has no authority to: UPDATE_USER")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || strings.TrimSpace(string(body)) == "" {
		invalidJSON(w)
		return
	}
	req, ok := parseObject(body)
	if !ok {
		invalidJSON(w)
		return
	}
	var errs []paramError
	for _, k := range req.keys {
		if !slices.Contains(updateParameters, k) {
			errs = append(errs, newParamError("error.msg.parameter.unsupported", "The parameter "+k+" is not supported.", k, k))
		}
	}
	if len(errs) > 0 {
		validationErrors(w, errs...)
		return
	}
	for _, k := range []string{"username", "firstname", "lastname", "email"} {
		if !req.has(k) {
			continue
		}
		v := req.str(k)
		if v == nil || strings.TrimSpace(*v) == "" {
			errs = append(errs, newParamError("validation.msg.user."+k+".cannot.be.blank", "The parameter `"+k+"` is mandatory.", k, nil))
		} else if n := len([]rune(strings.TrimSpace(*v))); n > 100 {
			errs = append(errs, newParamError("validation.msg.user."+k+".exceeds.max.length", "The parameter `"+k+"` exceeds max length of 100.", k, 100, *v))
		}
	}
	password := req.str("password")
	if req.has("password") {
		regex, description, err := activePasswordPolicy(ctx, db)
		if err != nil {
			s.dbError(w, err)
			return
		}
		re, err := regexp.Compile(`\A(?:` + regex + `)\z`)
		if err != nil {
			// Go's regexp has no lookaround; Java's String.matches has.
			serverError(w, "error.msg.standin.password.policy.unsupported",
				"The Fineract stand-in cannot evaluate the active password policy "+strconv.Quote(regex)+": "+err.Error())
			return
		}
		if password != nil && !re.MatchString(*password) {
			errs = append(errs, newParamError("validation.msg.user.password.does.not.match.regexp", description, "password", *password, regex))
		}
		if password != nil && strings.TrimSpace(*password) != "" {
			repeat := req.str("repeatPassword")
			if repeat == nil || *repeat != *password {
				var rv any
				if repeat != nil {
					rv = *repeat
				}
				errs = append(errs, newParamError("validation.msg.user.repeatPassword.not.equal.to.password",
					"The parameter `repeatPassword` is not equal to password.", "repeatPassword", rv, *password))
			}
		}
	}
	if len(errs) > 0 {
		validationErrors(w, errs...)
		return
	}
	if !caller.hasAnyPermission("UPDATE_USER") {
		var extra []string
		for _, k := range req.keys {
			if k != "password" && k != "repeatPassword" && (!caller.SelfService || k != "clients") {
				extra = append(extra, k)
			}
		}
		if len(extra) > 0 {
			validationErrors(w, newParamError("not.enough.permission.to.update.fields", "Current user has no permission to update fields", strings.Join(extra, ",")))
			return
		}
	}
	for _, k := range req.keys {
		if !slices.Contains(updateImplemented, k) {
			validationErrors(w, newParamError("error.msg.standin.parameter.not.implemented",
				"The Fineract stand-in does not implement changing "+k+" (Fineract does).", k, k))
			return
		}
	}

	var result map[string]any
	err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		result, err = s.applyUserUpdate(ctx, tx, w, req, id)
		return err
	})
	if errors.Is(err, errAnswered) {
		return
	}
	if err != nil {
		s.dbError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, result)
}

// errAnswered rolls back a transaction whose refusal is already written.
var errAnswered = errors.New("answered")

func (s *server) applyUserUpdate(ctx context.Context, tx pgx.Tx, w http.ResponseWriter, req jsonObject, id int64) (map[string]any, error) {
	var (
		officeID                                   int64
		username, firstname, lastname, email, hash string
		cannotChange                               bool
	)
	err := tx.QueryRow(ctx, `SELECT office_id, username, firstname, lastname, email, password, coalesce(cannot_change_password, false)
		FROM m_appuser WHERE id = $1 FOR UPDATE`, id).Scan(&officeID, &username, &firstname, &lastname, &email, &hash, &cannotChange)
	if errors.Is(err, pgx.ErrNoRows) {
		userNotFound(w, id)
		return nil, errAnswered
	}
	if err != nil {
		return nil, fmt.Errorf("load user %d: %w", id, err)
	}
	changes := map[string]any{}
	if p := req.str("password"); req.has("password") && p != nil {
		encoded, err := encodePassword(*p)
		if err != nil {
			return nil, err
		}
		// isChangeInPasswordParameterNamed: the fresh encoding against the
		// stored string, then the last previous passwords likewise.
		if encoded != hash {
			rows, err := tx.Query(ctx, `SELECT password FROM m_appuser_previous_password WHERE user_id = $1
				ORDER BY removal_date DESC, id DESC LIMIT $2`, id, numberOfPreviousPasswords)
			if err != nil {
				return nil, fmt.Errorf("previous passwords: %w", err)
			}
			previous, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return nil, fmt.Errorf("previous passwords: %w", err)
			}
			if slices.Contains(previous, encoded) {
				domainRuleViolation(w, "error.msg.password.already.used", "The submitted password has already been used in the past")
				return nil, errAnswered
			}
			if cannotChange {
				notAuthorized(w, "Password of this user may not be modified")
				return nil, errAnswered
			}
			if _, err := tx.Exec(ctx, `UPDATE m_appuser SET password = $2, firsttime_login_remaining = false,
				last_time_password_updated = current_date WHERE id = $1`, id, encoded); err != nil {
				return nil, fmt.Errorf("store password: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO m_appuser_previous_password (user_id, password, removal_date)
				VALUES ($1, $2, current_date)`, id, strings.TrimSpace(hash)); err != nil {
				return nil, fmt.Errorf("keep previous password: %w", err)
			}
			changes["passwordEncoded"] = encoded
		}
	}
	for _, f := range []struct {
		param, column string
		current       string
	}{{"username", "username", username}, {"firstname", "firstname", firstname}, {"lastname", "lastname", lastname}, {"email", "email", email}} {
		v := req.str(f.param)
		if v == nil || *v == f.current {
			continue
		}
		if f.param == "username" && username == "system" {
			// AppUser.isSystemUser: the user named "system".
			notAuthorized(w, "User name of current system user may not be modified")
			return nil, errAnswered
		}
		if _, err := tx.Exec(ctx, `UPDATE m_appuser SET `+f.column+` = $2 WHERE id = $1`, id, *v); err != nil {
			if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.ConstraintName == "username_org" {
				// handleDataIntegrityIssues: PlatformDataIntegrityException, 403.
				msg := "User with username " + *v + " already exists."
				writeGlobalError(w, http.StatusForbidden, "error.msg.user.duplicate.username",
					"The request caused a data integrity issue to be fired by the database.", msg,
					newParamError("error.msg.user.duplicate.username", msg, "username", *v))
				return nil, errAnswered
			}
			return nil, fmt.Errorf("update %s: %w", f.param, err)
		}
		changes[f.param] = *v
	}
	return map[string]any{"officeId": officeID, "resourceId": id, "changes": changes}, nil
}

// activePasswordPolicy is PasswordValidationPolicyRepository
// .findActivePasswordValidationPolicy.
func activePasswordPolicy(ctx context.Context, db *pgxpool.Pool) (regex, description string, err error) {
	err = db.QueryRow(ctx, `SELECT regex, description FROM m_password_validation_policy WHERE active ORDER BY id LIMIT 1`).Scan(&regex, &description)
	if err != nil {
		return "", "", fmt.Errorf("active password policy: %w", err)
	}
	return regex, description, nil
}
