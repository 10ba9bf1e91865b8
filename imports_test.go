package qianmian_test

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// allowedImports lists, for each package of the module, the module's packages it may import
// (ARCHITECTURE.md: arrows point inward; adapters never import each other).
var allowedImports = map[string][]string{
	"":             {},
	"model":        {},
	"forecast":     {},
	"inmem":        {""},
	"sqlite":       {""},
	"postgres":     {""},
	"nats":         {""},
	"privacy":      {""},
	"sim":          {""},
	"storetest":    {""},
	"mock":         {""},
	"http":         {"", "http/ui"},
	"http/ui":      {""},
	"recommend":    {"", "model"},
	"eval":         {"", "model"},
	"persona":      {},
	"bench":        {},
	"profile":      {"", "model", "persona", "profile/segment"},
	"shop":         {"", "model", "forecast"},
	"insight":      {"", "model", "forecast"},
	"cmd/qianmian": nil, // the one place that wires implementations
	// profile/segment is pure: the standard library only.
	"profile/segment": {},
}

func TestImportRules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const mod = "github.com/qianmian/qianmian"
	out, err := exec.Command("go", "list", "-json", "./...").Output()
	if err != nil {
		t.Skipf("go list unavailable: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, mod), "/")
		allowed, known := allowedImports[rel]
		if !known {
			t.Errorf("package %q has no entry in allowedImports: add it with the rooms it may import", rel)
			continue
		}
		if allowed == nil {
			continue
		}
		for _, imp := range p.Imports {
			if imp != mod && !strings.HasPrefix(imp, mod+"/") {
				continue
			}
			target := strings.TrimPrefix(strings.TrimPrefix(imp, mod), "/")
			ok := false
			for _, a := range allowed {
				ok = ok || a == target
			}
			if !ok {
				t.Errorf("%q imports %q: not allowed by ARCHITECTURE.md", rel, target)
			}
		}
	}
}
