package main

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// checkPolicy applies the password policies of a realm's passwordPolicy
// string ("length(12) and upperCase(1) and ...") that concern one new
// password. passwordHistory has nothing to compare a new user's password
// with; other policies are refused so a realm the stand-in cannot enforce
// fails at import.
func checkPolicy(policy, username, password string) error {
	if strings.TrimSpace(policy) == "" {
		return nil
	}
	count := func(f func(rune) bool) int {
		n := 0
		for _, r := range password {
			if f(r) {
				n++
			}
		}
		return n
	}
	for _, p := range strings.Split(policy, " and ") {
		name, arg, _ := strings.Cut(strings.TrimSpace(p), "(")
		arg = strings.TrimSuffix(arg, ")")
		n := 1
		if arg != "" {
			v, err := strconv.Atoi(arg)
			if err != nil {
				return fmt.Errorf("password policy %q: bad argument", p)
			}
			n = v
		}
		var ok bool
		switch name {
		case "length":
			ok = len([]rune(password)) >= n
		case "upperCase":
			ok = count(unicode.IsUpper) >= n
		case "lowerCase":
			ok = count(unicode.IsLower) >= n
		case "digits":
			ok = count(unicode.IsDigit) >= n
		case "specialChars":
			ok = count(func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsSpace(r) }) >= n
		case "notUsername":
			ok = !strings.EqualFold(password, username)
		case "passwordHistory":
			ok = true
		default:
			return fmt.Errorf("password policy %q is not supported by the stand-in", name)
		}
		if !ok {
			return fmt.Errorf("invalidPassword: the password does not meet the policy %s", strings.TrimSpace(p))
		}
	}
	return nil
}
