package assets

import (
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
		// Only the default user exists; -@dangerous keeps CONFIG, DEBUG,
		// FLUSHALL, KEYS and the like away from clients.
		return []byte("user default on #" + hex.EncodeToString(sum[:]) + " ~* &* +@all -@dangerous\n"), nil
	case strings.HasPrefix(string(f), yamlSettingPrefix):
		setting := strings.TrimPrefix(string(f), yamlSettingPrefix)
		if setting == "" {
			return nil, fmt.Errorf("secret %s: YAML setting format without a setting name", s.File)
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

func checkCharset(value, charset string) error {
	switch charset {
	case CharsetAlnum, "":
		for _, r := range value {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return fmt.Errorf("value has a character outside A-Z a-z 0-9; rotate it to a generated one")
			}
		}
		return nil
	default:
		return fmt.Errorf("unknown charset %q", charset)
	}
}
