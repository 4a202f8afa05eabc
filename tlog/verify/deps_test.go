package verify

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestImports enforces the package's audit rule: it imports only the standard library and
// golang.org/x/mod/sumdb/{tlog,note}.
func TestImports(t *testing.T) {
	names, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, n := range names {
		if !strings.HasSuffix(n.Name(), ".go") || strings.HasSuffix(n.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n.Name(), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if (strings.Contains(first, ".") || first == "reclaim") && path != "golang.org/x/mod/sumdb/tlog" && path != "golang.org/x/mod/sumdb/note" {
				t.Errorf("%s imports %s: tlog/verify may import only the standard library and golang.org/x/mod/sumdb", n.Name(), path)
			}
		}
	}
}
