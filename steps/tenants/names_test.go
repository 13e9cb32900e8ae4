package tenants

import (
	"strings"
	"testing"
)

func TestValidateNameRefusesWhatCannotBeATenant(t *testing.T) {
	long := "a" + strings.Repeat("b", MaxNameLength)
	for name, want := range map[string]string{
		"":                    "must start with a lower-case letter",
		"Student1":            "must start with a lower-case letter",
		"1student":            "must start with a lower-case letter",
		"student-1":           "must start with a lower-case letter",
		"student_1":           "must start with a lower-case letter",
		"stüdent":             "must start with a lower-case letter",
		"a'; DROP ROLE x; --": "must start with a lower-case letter",
		"x$":                  "must start with a lower-case letter",
		"default":             "taken by the default tenant",
		long:                  "at most 32 are allowed",
	} {
		err := ValidateName(name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateName(%q) = %v, want an error saying %q", name, err, want)
		}
	}
	for _, ok := range []string{"a", "student12", strings.Repeat("z", MaxNameLength)} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q) = %v", ok, err)
		}
	}
}

// TestLongestNameFitsPostgreSQLIdentifiers: every object name built from
// the longest tenant name stays within PostgreSQL's 63 bytes, so none is
// silently truncated into another tenant's.
func TestLongestNameFitsPostgreSQLIdentifiers(t *testing.T) {
	n := strings.Repeat("z", MaxNameLength)
	for _, id := range []string{Database(n), Role(n), Snapshot(n), staging(n)} {
		if len(id) > 63 {
			t.Errorf("%s is %d bytes, PostgreSQL keeps 63", id, len(id))
		}
	}
}

func TestValidateNewReportsEveryProblem(t *testing.T) {
	err := ValidateNew([]string{"alice", "Bob", "alice", "default"})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`"Bob"`, `"alice" is given twice`, `"default" is taken`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %s", err, want)
		}
	}
	if ValidateNew(nil) == nil {
		t.Error("no names accepted")
	}
}

func TestNumbered(t *testing.T) {
	got, err := Numbered("student", 12)
	if err != nil || len(got) != 12 || got[0] != "student1" || got[11] != "student12" {
		t.Errorf("Numbered(student, 12) = %v, %v", got, err)
	}
	for _, c := range []struct {
		prefix string
		n      int
	}{{"student", 0}, {"student", MaxCount + 1}, {"Student", 3}, {"9", 2}, {strings.Repeat("s", MaxNameLength), 1}} {
		if _, err := Numbered(c.prefix, c.n); err == nil {
			t.Errorf("Numbered(%q, %d) accepted", c.prefix, c.n)
		}
	}
}

func TestDefaultTenantKeepsTheInstallsDatabase(t *testing.T) {
	if Database(Default) != "fineract_default" || Role(Default) != "fineract" {
		t.Errorf("default tenant: database %s role %s", Database(Default), Role(Default))
	}
	if Database("student1") != "fineract_t_student1" || Role("student1") != "fineract_t_student1" {
		t.Errorf("student1: database %s role %s", Database("student1"), Role("student1"))
	}
}
