package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// readConfigFile applies etcd's YAML configuration file (--config-file) to
// the flags: each top-level key is the name of a flag (etcd's own names:
// name, data-dir, listen-client-urls, initial-cluster...), its value what
// the flag would take. As in etcd:
//
//   - the file is the whole configuration: a flag that is not in it keeps
//     its default. etcd ignores every other command-line flag and the
//     environment when it reads a file; cairn refuses the flags (an ignored
//     flag is a mistake the operator should hear of) and ignores the
//     environment with a note;
//   - a null value (data-dir: with nothing after it) leaves the default;
//     a list is read as the comma list the flag takes (log-outputs:
//     [stderr]); a duration written as an integer is nanoseconds, as etcd's
//     YAML decoding reads it, and "100ms" works too;
//   - client-transport-security and peer-transport-security (TLS) are
//     accepted empty or all false, else refused by name.
//
// Keys cairn does not know are ignored with a note that names them (etcd
// ignores them silently).
func (m *Main) readConfigFile(fs *flag.FlagSet) error {
	path := m.Config.ConfigFile
	var given []string
	for name, src := range m.sources {
		if src == sourceCommandLine && name != "config-file" {
			given = append(given, "--"+name)
		}
	}
	if len(given) > 0 {
		slices.Sort(given)
		return fmt.Errorf("%s given with --config-file %s%s: etcd ignores the other flags when it reads a configuration file, cairn refuses them; put them in the file", strings.Join(given, " "), path, m.setBy("config-file"))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--config-file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("--config-file %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		m.note(slog.LevelWarn, "the configuration file is empty: every setting is its default", "path", path)
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("--config-file %s: want a mapping of etcd's keys (name: ..., data-dir: ...) at the top", path)
	}
	var unknown []string
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		if seen[key] {
			return fmt.Errorf("--config-file %s, line %d: %s is given twice", path, k.Line, key)
		}
		seen[key] = true
		if key == "client-transport-security" || key == "peer-transport-security" {
			u, err := checkTransportSecurity(key, v, func(name string, val *yaml.Node) error {
				f := fs.Lookup(name)
				s, set, err := yamlFlagValue(val, f)
				if err == nil && set {
					err = f.Value.Set(s)
					m.sources[name] = sourceConfigFile
				}
				return err
			})
			if err != nil {
				return fmt.Errorf("--config-file %s, line %d: %w", path, k.Line, err)
			}
			unknown = append(unknown, u...)
			continue
		}
		f := fs.Lookup(key)
		if f == nil || key == "config-file" || key == "version" {
			unknown = append(unknown, key)
			continue
		}
		val, set, err := yamlFlagValue(v, f)
		if err == nil && set {
			err = f.Value.Set(val)
		}
		if err != nil {
			return fmt.Errorf("--config-file %s, line %d: %s: %v", path, k.Line, key, err)
		}
		if set {
			m.sources[key] = sourceConfigFile
		}
	}
	if len(unknown) > 0 {
		m.note(slog.LevelWarn, "configuration file keys cairn does not know are ignored", "path", path, "keys", unknown)
	}
	return nil
}

// yamlFlagValue turns a YAML value into what flag f takes; set is false for
// null.
func yamlFlagValue(v *yaml.Node, f *flag.Flag) (val string, set bool, err error) {
	if v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return "", false, nil
		}
		if g, ok := f.Value.(flag.Getter); ok && v.Tag == "!!int" && isDuration(g.Get()) {
			return v.Value + "ns", true, nil // etcd's YAML: a time.Duration's integer
		}
		return v.Value, true, nil
	case yaml.SequenceNode:
		var parts []string
		for _, e := range v.Content {
			if e.Kind != yaml.ScalarNode {
				return "", false, errors.New("a list of lists or mappings; want a list of values")
			}
			parts = append(parts, e.Value)
		}
		return strings.Join(parts, ","), len(parts) > 0, nil
	}
	return "", false, errors.New("a mapping; want a value or a list of values")
}

func isDuration(v any) bool {
	_, ok := v.(time.Duration)
	return ok
}

// checkTransportSecurity reads etcd's TLS section (client- or
// peer-transport-security): the keys cairn serves go to their flags
// through set (cert-file as --cert-file or --peer-cert-file...), the others
// are refused unless empty or false. It returns the keys in it that etcd
// does not have.
func checkTransportSecurity(section string, v *yaml.Node, set func(flag string, val *yaml.Node) error) (unknown []string, err error) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil, nil
	}
	if v.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: want a mapping (cert-file: ..., key-file: ...)", section)
	}
	served := []string{"cert-file", "key-file", "client-cert-auth", "trusted-ca-file", "auto-tls"}
	known := append(slices.Clone(served), "crl-file", "allowed-cn", "allowed-hostname", "skip-client-san-verification")
	prefix := ""
	if section == "peer-transport-security" {
		prefix = "peer-"
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i].Value, v.Content[i+1]
		if !slices.Contains(known, k) {
			unknown = append(unknown, section+"."+k)
			continue
		}
		if slices.Contains(served, k) {
			// etcd's keys, as the --[peer-]<key> flags (security.go).
			if err := set(prefix+k, val); err != nil {
				return nil, fmt.Errorf("%s.%s: %v", section, k, err)
			}
			continue
		}
		if val.Kind == yaml.ScalarNode && (val.Tag == "!!null" || val.Value == "" || val.Value == "false") {
			continue
		}
		return nil, fmt.Errorf("not implemented yet: %s.%s (TLS)", section, k)
	}
	return unknown, nil
}
