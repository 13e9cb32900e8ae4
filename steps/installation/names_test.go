package installation_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fileNames are the names of an installation's files: only the handle
// spells them.
var fileNames = []string{
	"answers.yaml", "state.json", "compose.yaml", "images.json", "frontdoor.json",
	"record.json", "unseal-keys.enc", "encrypted-shares.txt",
	"initial-credentials.txt", "initial-credentials.asc",
	"tenant-credentials.txt", "tenant-credentials.asc",
	".lock", "audit.jsonl", "audit-head-token",
}

// dirNames are the names of an installation's directories.
var dirNames = []string{"pki", "vault", "backups"}

// allowed are the places outside the handle that may build a name: the
// engine names the containers it creates as docker compose does, and the
// handle asks it.
var allowed = map[string]bool{
	"compose/convert.go:ContainerName": true,
}

// productRoots are the parts of the module that make up the program; lab/
// and bench/ are tooling.
var productRoots = []string{"main.go", "ui", "steps", "assets", "compose"}

var nameToken = regexp.MustCompile(`[A-Za-z0-9_.-]+`)

// TestNamesAreSpelledOnlyByTheHandle reads the program's source and fails
// on any file, directory, container or volume name of an installation
// spelled outside this package.
func TestNamesAreSpelledOnlyByTheHandle(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	var found []string
	for _, r := range productRoots {
		err := filepath.WalkDir(filepath.Join(root, r), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			rel = filepath.ToSlash(rel)
			if d.IsDir() {
				if rel == "steps/installation" || d.Name() == "testdata" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
				return nil
			}
			found = append(found, spelledNames(t, path, rel)...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(found) > 0 {
		t.Errorf("names of an installation spelled outside steps/installation (use its handle):\n  %s", strings.Join(found, "\n  "))
	}
}

// spelledNames lists where file parses a name the handle owns.
func spelledNames(t *testing.T, path, rel string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	seen := map[token.Pos]bool{}
	report := func(n ast.Node, why string) {
		if !seen[n.Pos()] {
			seen[n.Pos()] = true
			out = append(out, fmt.Sprintf("%s: %s", fset.Position(n.Pos()), why))
		}
	}
	for _, decl := range f.Decls {
		if fd, ok := decl.(*ast.FuncDecl); ok && allowed[rel+":"+fd.Name.Name] {
			continue
		}
		ast.Inspect(decl, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.KeyValueExpr:
				// A command's examples name files of the user's choosing.
				if key, ok := n.Key.(*ast.Ident); ok && key.Name == "Example" {
					return false
				}
			case *ast.BasicLit:
				if s, ok := stringValue(n); ok {
					// Regular expressions spell names with escaped dots.
					for _, name := range fileNames {
						if slices.Contains(nameToken.FindAllString(strings.ReplaceAll(s, `\`, ""), -1), name) {
							report(n, "file name "+strconv.Quote(name))
						}
					}
					if s == "backups" {
						report(n, "directory name \"backups\"")
					}
				}
			case *ast.CallExpr:
				if isPathJoin(n.Fun) {
					for _, arg := range n.Args {
						if s, ok := stringValue(arg); ok && isDirName(strings.Split(s, "/")[0]) {
							report(arg, "directory name "+strconv.Quote(s)+" joined to a path")
						}
					}
				}
			case *ast.BinaryExpr:
				if n.Op != token.ADD {
					return true
				}
				for _, operand := range []ast.Expr{n.X, n.Y} {
					s, ok := stringValue(operand)
					switch {
					case !ok:
					case strings.HasPrefix(s, "-") && strings.HasSuffix(s, "-1"):
						report(operand, "container name part "+strconv.Quote(s))
					case strings.HasPrefix(s, "_") && mentionsProject(n):
						report(operand, "volume name part "+strconv.Quote(s))
					case strings.HasPrefix(s, "/") && isDirName(strings.Split(s[1:], "/")[0]):
						report(operand, "directory name "+strconv.Quote(s)+" added to a path")
					}
				}
			}
			return true
		})
	}
	return out
}

func stringValue(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

func isDirName(s string) bool { return slices.Contains(dirNames, s) }

// isPathJoin reports a call of filepath.Join or path.Join.
func isPathJoin(fun ast.Expr) bool {
	sel, ok := fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "Join" {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && (pkg.Name == "filepath" || pkg.Name == "path")
}

// mentionsProject reports an expression that uses a project name.
func mentionsProject(e ast.Expr) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && strings.Contains(strings.ToLower(id.Name), "project") {
			found = true
		}
		return !found
	})
	return found
}
