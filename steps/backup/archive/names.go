package archive

import (
	"fmt"
	"path"
)

// nameSet keeps the entry names of one payload consistent: no duplicates,
// no file that is also the parent of another entry. Writer and reader both
// use it, so extraction never meets a conflict the writer allowed.
type nameSet struct {
	types   map[string]EntryType // explicit entries
	parents map[string]bool      // directories implied by entry names
}

func newNameSet() *nameSet {
	return &nameSet{types: map[string]EntryType{}, parents: map[string]bool{}}
}

func (s *nameSet) add(name string, t EntryType) error {
	if err := ValidName(name); err != nil {
		return err
	}
	if _, dup := s.types[name]; dup {
		return fmt.Errorf("entry %q appears twice", name)
	}
	if t == TypeFile && s.parents[name] {
		return fmt.Errorf("entry %q is a file, but earlier entries use it as a directory", name)
	}
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		if s.types[dir] == TypeFile {
			return fmt.Errorf("entry %q is inside %q, which is a file", name, dir)
		}
		s.parents[dir] = true
	}
	s.types[name] = t
	return nil
}
