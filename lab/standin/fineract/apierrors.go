package main

import (
	"net/http"
	"strconv"
	"time"
)

// Fineract's error bodies (apache/fineract, read at develop 4198b0b
// (2024-10)): fineract-core/.../infrastructure/core/data/
// ApiGlobalErrorResponse.java and ApiParameterError.java, chosen by the
// exception mappers in fineract-core/.../core/exceptionmapper/.

// paramError is ApiParameterError.
type paramError struct {
	DeveloperMessage             string     `json:"developerMessage"`
	DefaultUserMessage           string     `json:"defaultUserMessage"`
	UserMessageGlobalisationCode string     `json:"userMessageGlobalisationCode"`
	ParameterName                string     `json:"parameterName"`
	Value                        any        `json:"value"`
	Args                         []errorArg `json:"args"`
}

// errorArg is ApiErrorMessageArg.
type errorArg struct {
	Value any `json:"value"`
}

func newParamError(code, msg, param string, args ...any) paramError {
	e := paramError{DeveloperMessage: msg, DefaultUserMessage: msg, UserMessageGlobalisationCode: code, ParameterName: param, Args: []errorArg{}}
	for _, a := range args {
		e.Args = append(e.Args, errorArg{Value: a})
	}
	return e
}

// generalError is ApiParameterError.generalError (parameter "id").
func generalError(code, msg string, args ...any) paramError {
	return newParamError(code, msg, "id", args...)
}

// globalError is ApiGlobalErrorResponse.
type globalError struct {
	DeveloperMessage             string       `json:"developerMessage"`
	HTTPStatusCode               string       `json:"httpStatusCode"`
	DefaultUserMessage           string       `json:"defaultUserMessage"`
	UserMessageGlobalisationCode string       `json:"userMessageGlobalisationCode"`
	Errors                       []paramError `json:"errors"`
}

func writeGlobalError(w http.ResponseWriter, code int, msgCode, developer, user string, errs ...paramError) {
	if errs == nil {
		errs = []paramError{}
	}
	writeJSON(w, code, globalError{
		DeveloperMessage: developer, HTTPStatusCode: strconv.Itoa(code), DefaultUserMessage: user,
		UserMessageGlobalisationCode: msgCode, Errors: errs,
	})
}

// validationErrors is PlatformApiDataValidationExceptionMapper (and
// UnsupportedParameterExceptionMapper): 400, "Validation errors exist.".
func validationErrors(w http.ResponseWriter, errs ...paramError) {
	writeGlobalError(w, http.StatusBadRequest, "validation.msg.validation.errors.exist",
		"The request was invalid. This typically will happen due to validation errors which are provided.",
		"Validation errors exist.", errs...)
}

// invalidJSON is InvalidJsonExceptionMapper: 400 with a bare
// ApiParameterError.
func invalidJSON(w http.ResponseWriter) {
	writeJSON(w, http.StatusBadRequest, generalError("error.msg.invalid.request.body", "The JSON provided in the body of the request is invalid or missing."))
}

// notAuthorized is NoAuthorizationExceptionMapper: 403.
func notAuthorized(w http.ResponseWriter, msg string) {
	writeGlobalError(w, http.StatusForbidden, "error.msg.not.authorized",
		"The user associated with credentials passed on this request does not have sufficient privileges to perform this action.",
		"Insufficient privileges to perform this action.", generalError("error.msg.not.authorized", msg))
}

// domainRuleViolation is PlatformDomainRuleExceptionMapper: 403.
func domainRuleViolation(w http.ResponseWriter, code, msg string, args ...any) {
	writeGlobalError(w, http.StatusForbidden, "validation.msg.domain.rule.violation",
		"Request was understood but caused a domain rule violation.",
		"Errors contain reason for domain rule violation.", generalError(code, msg, args...))
}

// notFound is PlatformResourceNotFoundExceptionMapper: 404.
func notFound(w http.ResponseWriter, code, msg string, args ...any) {
	const m = "The requested resource is not available."
	writeGlobalError(w, http.StatusNotFound, "error.msg.resource.not.found", m, m, generalError(code, msg, args...))
}

// unauthenticated is ApiGlobalErrorResponse.unAuthenticated: 401.
func unauthenticated(w http.ResponseWriter) {
	writeGlobalError(w, http.StatusUnauthorized, "error.msg.not.authenticated",
		"Invalid authentication details were passed in api request.", "Unauthenticated. Please login.")
}

// serverError is ApiGlobalErrorResponse.serverSideError: 500.
func serverError(w http.ResponseWriter, code, msg string) {
	const m = "An unexpected error occured on the platform server."
	writeGlobalError(w, http.StatusInternalServerError, "error.msg.platform.server.side.error", m, m, generalError(code, msg))
}

// springError is Spring Boot's error controller body for
// response.sendError (server.error.include-message is not set, so no
// message).
func springError(w http.ResponseWriter, r *http.Request, code int) {
	writeJSON(w, code, map[string]any{
		"timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000+00:00"),
		"status":    code,
		"error":     http.StatusText(code),
		"path":      r.URL.Path,
	})
}
