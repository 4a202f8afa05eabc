package tape

import (
	"fmt"
	"os"
	"path/filepath"
)

func readTestdata(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", name))
}

func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }

func fmtSscan(s string, v any) (int, error) { return fmt.Sscan(s, v) }

// readFileUp reads a file relative to the module root.
func readFileUp(rel string) ([]byte, error) { return os.ReadFile(filepath.Join("..", rel)) }

// tb is the part of testing.TB that test helpers use; *rapid.T has it too.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}
