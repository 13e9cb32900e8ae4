// Package fineractapi is the installer's client of Fineract's REST API:
// the few calls an administrator makes to take over a fresh tenant (sign
// in, list users, set a user's password). Requests go through the gateway
// over TLS verified with the installer's CA, as any client's do.
//
// The contract is Fineract's own (apache/fineract, read at develop
// 4198b0b, 2024-10):
//   - every call names its tenant in the Fineract-Platform-TenantId header
//     (TenantAwareBasicAuthenticationFilter);
//   - POST /authentication {"username","password"} answers 200 with the
//     user, 401 for wrong credentials; it exists only with basic
//     authentication on (AuthenticationApiResource is
//     @ConditionalOnProperty("fineract.security.basicauth.enabled"));
//   - GET /users lists the users of the caller's office hierarchy
//     (AppUserReadPlatformServiceImpl.retrieveAllUsers);
//   - PUT /users/{id} {"password","repeatPassword"} sets a password, checked
//     by UserDataValidator.validateForUpdate against the tenant's active
//     password policy (UsersApiResource, AppUserWritePlatformServiceJpaRepositoryImpl).
package fineractapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/fineract-installer/fineract-installer/steps/ratelimit"
)

// TenantHeader names the tenant of a request.
const TenantHeader = "Fineract-Platform-TenantId"

// Client calls one tenant's API.
type Client struct {
	HTTP *http.Client
	// BaseURL ends in /fineract-provider/api/v1.
	BaseURL string
	Tenant  string
}

// Auth authenticates a request.
type Auth func(*http.Request)

// Basic is HTTP basic authentication, Fineract's default.
func Basic(user, password string) Auth {
	return func(r *http.Request) { r.SetBasicAuth(user, password) }
}

// Bearer sends an OAuth2 access token (Fineract as a resource server).
func Bearer(token string) Auth {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// Error is Fineract's error answer (ApiGlobalErrorResponse).
type Error struct {
	Status            int
	DeveloperMessage  string       `json:"developerMessage"`
	UserMessage       string       `json:"defaultUserMessage"`
	GlobalisationCode string       `json:"userMessageGlobalisationCode"`
	Errors            []ParamError `json:"errors"`
}

// ParamError is one parameter's validation error.
type ParamError struct {
	Parameter   string `json:"parameterName"`
	UserMessage string `json:"defaultUserMessage"`
	Code        string `json:"userMessageGlobalisationCode"`
}

func (e *Error) Error() string {
	msg := e.UserMessage
	if msg == "" {
		msg = e.DeveloperMessage
	}
	for _, p := range e.Errors {
		msg += fmt.Sprintf("; %s: %s", p.Parameter, p.UserMessage)
	}
	return fmt.Sprintf("Fineract answered %d: %s", e.Status, msg)
}

// maxBody bounds what is read of an answer.
const maxBody = 1 << 20

func (c Client) do(ctx context.Context, method, path string, auth Auth, in, out any) error {
	var payload []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		payload = b
	}
	return c.once(ctx, method, path, auth, payload, out)
}

func (c Client) once(ctx context.Context, method, path string, auth Auth, payload []byte, out any) error {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return err
	}
	req.Header.Set(TenantHeader, c.Tenant)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != nil {
		auth(req)
	}
	// The gateway's rate limits answer 429; a patient client waits.
	resp, err := ratelimit.Client(c.HTTP).Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(data, e) != nil || (e.UserMessage == "" && e.DeveloperMessage == "") {
			e.DeveloperMessage = strings.TrimSpace(string(data))
			if len(e.DeveloperMessage) > 200 {
				e.DeveloperMessage = e.DeveloperMessage[:200] + "…"
			}
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not Fineract's JSON: %w", method, path, err)
	}
	return nil
}

// IsStatus says whether err is Fineract's answer with that HTTP status.
func IsStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// Authenticate signs in with a user's password: true when Fineract
// accepts it, false when it answers 401.
func (c Client) Authenticate(ctx context.Context, user, password string) (bool, error) {
	err := c.do(ctx, http.MethodPost, "/authentication", nil, map[string]string{"username": user, "password": password}, nil)
	switch {
	case err == nil:
		return true, nil
	case IsStatus(err, http.StatusUnauthorized):
		return false, nil
	}
	return false, err
}

// Accepts says whether Fineract takes a user's password for HTTP Basic
// authentication on an API call (GET /users): 200, or 403 for a user
// without the permission to list users, is a yes; 401 a no. Unlike
// POST /authentication it is not in the gateway's sign-in rate limit,
// so the installer's own probes leave that budget to people.
func (c Client) Accepts(ctx context.Context, user, password string) (bool, error) {
	_, err := c.Users(ctx, Basic(user, password))
	switch {
	case err == nil, IsStatus(err, http.StatusForbidden):
		return true, nil
	case IsStatus(err, http.StatusUnauthorized):
		return false, nil
	}
	return false, err
}

// User is one of a tenant's users.
type User struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

// Users lists the tenant's users.
func (c Client) Users(ctx context.Context, auth Auth) ([]User, error) {
	var us []User
	return us, c.do(ctx, http.MethodGet, "/users", auth, nil, &us)
}

// SetPassword sets a user's password as an administrator does in the
// web app's "change password" form.
func (c Client) SetPassword(ctx context.Context, auth Auth, id int64, password string) error {
	return c.do(ctx, http.MethodPut, "/users/"+strconv.FormatInt(id, 10), auth,
		map[string]string{"password": password, "repeatPassword": password}, nil)
}
