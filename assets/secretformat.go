package assets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// SecretFormat says how a secret file's content is made from the value kept
// in Vault.
type SecretFormat string

const (
	// FormatRaw writes the value itself, without a trailing newline
	// (*_FILE variables, Spring config trees, Grafana's __FILE settings).
	FormatRaw SecretFormat = "raw"
	// FormatRedisACL writes a Redis ACL file whose default user authenticates
	// with the value (stored as its SHA-256, as Redis' ACL format allows).
	FormatRedisACL SecretFormat = "redis-acl"

	yamlSettingPrefix       = "yaml:"
	propertiesSettingPrefix = "properties:"
)

// YAMLSetting is the format of a one-line YAML file `<setting>: "<value>"`,
// for software that reads extra YAML config files but has no *_FILE support
// (Kibana's encryption keys).
func YAMLSetting(setting string) SecretFormat {
	return SecretFormat(yamlSettingPrefix + setting)
}

// PropertiesSetting is the format of one `<key>=<value>` line of a Java
// properties style file (Keycloak's configuration file). Several needs
// with the same File make one file, one line each.
func PropertiesSetting(key string) SecretFormat {
	return SecretFormat(propertiesSettingPrefix + key)
}

// SecretFileContents is what the vault step writes for the service, file
// by file, given each need's value: needs sharing a file are its parts, in
// order.
func (s Service) SecretFileContents(value func(SecretNeed) string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, need := range s.Secrets {
		data, err := need.Content(value(need))
		if err != nil {
			return nil, err
		}
		files[need.File] = append(files[need.File], data...)
	}
	return files, nil
}

// Content returns the bytes the vault step writes for the given value.
// Values must be non-empty and made of the need's charset, so no format
// needs quoting or escaping.
func (s SecretNeed) Content(value string) ([]byte, error) {
	if value == "" {
		return nil, fmt.Errorf("secret %s (%s#%s) is empty", s.File, s.VaultPath, s.Key)
	}
	if err := checkCharset(value, s.Generate.Charset); err != nil {
		return nil, fmt.Errorf("secret %s (%s#%s): %w", s.File, s.VaultPath, s.Key, err)
	}
	switch f := s.Format; {
	case f == FormatRaw || f == "":
		return []byte(value), nil
	case f == FormatRedisACL:
		sum := sha256.Sum256([]byte(value))
		return redisACL(hex.EncodeToString(sum[:])), nil
	case strings.HasPrefix(string(f), yamlSettingPrefix):
		setting, err := s.yamlSetting()
		if err != nil {
			return nil, err
		}
		return []byte(setting + ": \"" + value + "\"\n"), nil
	case strings.HasPrefix(string(f), propertiesSettingPrefix):
		key := strings.TrimPrefix(string(f), propertiesSettingPrefix)
		if key == "" {
			return nil, fmt.Errorf("secret %s: properties format without a key", s.File)
		}
		return []byte(key + "=" + value + "\n"), nil
	default:
		return nil, fmt.Errorf("secret %s: unknown format %q", s.File, f)
	}
}

// Recovered is what a delivered secret file holds of its Vault value.
type Recovered struct {
	// Value is the Vault value the file was made from. It is empty for a
	// format that keeps only a hash of it (FormatRedisACL); another file of
	// the same Vault key then holds the value itself.
	Value string
	// Hash is the lower-case hex SHA-256 a hashing format stores in place
	// of the value, else empty. It is kept from view like the value: it
	// lets anyone who has it test guesses offline.
	Hash string
}

// Recover inverts Content: it returns what content, as the vault step wrote
// it for s, holds of the Vault value. Content that Content cannot have made
// (edited, truncated, another format, another charset) is refused, so a
// service that rewrote its own secret file cannot pass off arbitrary text
// as a Vault value.
func (s SecretNeed) Recover(content []byte) (Recovered, error) {
	var got Recovered
	switch f := s.Format; {
	case f == FormatRaw || f == "":
		got.Value = string(content)
	case f == FormatRedisACL:
		line := string(content)
		rest, ok := strings.CutPrefix(line, redisACLPrefix)
		hash, _, ok2 := strings.Cut(rest, " ")
		if !ok || !ok2 || !isLowerHex(hash, sha256.Size) || !bytes.Equal(content, redisACL(hash)) {
			return Recovered{}, s.notWritten()
		}
		return Recovered{Hash: hash}, nil
	case strings.HasPrefix(string(f), yamlSettingPrefix):
		setting, err := s.yamlSetting()
		if err != nil {
			return Recovered{}, err
		}
		v, okPrefix := strings.CutPrefix(string(content), setting+": \"")
		v, okSuffix := strings.CutSuffix(v, "\"\n")
		if !okPrefix || !okSuffix {
			return Recovered{}, s.notWritten()
		}
		got.Value = v
	case strings.HasPrefix(string(f), propertiesSettingPrefix):
		key := strings.TrimPrefix(string(f), propertiesSettingPrefix)
		v, okPrefix := strings.CutPrefix(string(content), key+"=")
		v, okSuffix := strings.CutSuffix(v, "\n")
		if key == "" || !okPrefix || !okSuffix {
			return Recovered{}, s.notWritten()
		}
		got.Value = v
	default:
		return Recovered{}, fmt.Errorf("secret %s: unknown format %q", s.File, f)
	}
	// Writing the value again must give the same bytes.
	if again, err := s.Content(got.Value); err != nil || !bytes.Equal(again, content) {
		return Recovered{}, s.notWritten()
	}
	return got, nil
}

func (s SecretNeed) notWritten() error {
	format := s.Format
	if format == "" {
		format = FormatRaw
	}
	return fmt.Errorf("secret file %s (%s#%s) does not hold what the installer writes in the %s format", s.File, s.VaultPath, s.Key, format)
}

func (s SecretNeed) yamlSetting() (string, error) {
	setting := strings.TrimPrefix(string(s.Format), yamlSettingPrefix)
	if setting == "" {
		return "", fmt.Errorf("secret %s: YAML setting format without a setting name", s.File)
	}
	return setting, nil
}

// redisACLPrefix starts the one line of a Redis ACL file; the hash follows.
const redisACLPrefix = "user default on #"

// redisACL is the ACL file for the hex SHA-256 of the password. Only the
// default user exists; -@dangerous keeps CONFIG, DEBUG, FLUSHALL, KEYS and
// the like away from clients.
func redisACL(hash string) []byte {
	return []byte(redisACLPrefix + hash + " ~* &* +@all -@dangerous\n")
}

func isLowerHex(s string, size int) bool {
	if len(s) != 2*size {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func checkCharset(value, charset string) error {
	switch charset {
	case CharsetAlnum, "":
		for _, r := range value {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return fmt.Errorf("value has a character outside A-Z a-z 0-9; rotate it to a generated one")
			}
		}
		return nil
	case CharsetPassword:
		for _, r := range value {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
				return fmt.Errorf("value has a character outside A-Z a-z 0-9 - _ .; rotate it to a generated one")
			}
		}
		return nil
	case CharsetRandomBytes:
		for _, r := range value {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '/' || r == '=') {
				return fmt.Errorf("value is not base64; rotate it to a generated one")
			}
		}
		return nil
	default:
		return fmt.Errorf("unknown charset %q", charset)
	}
}
