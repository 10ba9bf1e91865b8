package http_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPI_MatchesRoutes checks that docs/openapi.yaml documents every route of
// routes() and nothing else: each documented operation is served by the route of the same
// pattern (seen in the request log), and each pattern in server.go is documented.
func TestOpenAPI_MatchesRoutes(t *testing.T) {
	t.Parallel()
	doc := documentedOperations(t)
	if len(doc) == 0 {
		t.Fatal("no operations found in docs/openapi.yaml")
	}

	src, err := os.ReadFile("server.go")
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, m := range regexp.MustCompile(`"((?:GET|POST|PUT|DELETE|PATCH) /[^"]*)"`).FindAllSubmatch(src, -1) {
		routes = append(routes, string(m[1]))
	}
	slices.Sort(routes)
	if !slices.Equal(doc, routes) {
		t.Fatalf("docs/openapi.yaml documents\n%v\nroutes() serves\n%v", doc, routes)
	}

	// Each documented operation reaches the route of its own pattern.
	var logs bytes.Buffer
	s := newWorld().server()
	s.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	h := s.Handler()
	for _, op := range doc {
		method, path, _ := strings.Cut(op, " ")
		path = strings.NewReplacer("{id}", "A", "{item}", "i1").Replace(path)
		logs.Reset()
		do(t, h, method, path, "op", "")
		var line struct {
			Route string `json:"route"`
		}
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
			t.Fatalf("%s: request log %q: %v", op, logs.Bytes(), err)
		}
		if line.Route != op {
			t.Errorf("%s %s was served by route %q", method, path, line.Route)
		}
	}
}

// documentedOperations returns "METHOD /path" for every operation of docs/openapi.yaml.
func documentedOperations(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../docs/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pathRE := regexp.MustCompile(`^  (/\S*):\s*$`)
	methodRE := regexp.MustCompile(`^    (get|post|put|delete|patch):\s*$`)
	var ops []string
	path := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := pathRE.FindStringSubmatch(sc.Text()); m != nil {
			path = m[1]
		} else if m := methodRE.FindStringSubmatch(sc.Text()); m != nil && path != "" {
			ops = append(ops, strings.ToUpper(m[1])+" "+path)
		} else if strings.HasPrefix(sc.Text(), "components:") {
			break
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ops)
	return ops
}
