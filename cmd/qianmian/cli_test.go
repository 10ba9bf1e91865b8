package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qianmian/qianmian"
)

// run runs the command line in-process and returns its exit status and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImport_FilesWithBadRecords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "q.db")
	files := []string{
		writeFile(t, dir, "events.csv", "id,type,user_id,item_id,store_id,channel,quantity,amount,occurred_at,location_type\n"+
			"e1,view,u1,i1,s1,app,,,2026-11-01T10:00:00Z,office\n"+
			"e2,purchase,u1,i1,s1,app,2,39.8,2026-11-01T10:05:00Z,\n"+
			"e3,purchase,u1,i1,s1,app,two,39.8,2026-11-01T10:05:00Z,\n"+ // quantity not an integer
			"e4,view,u1,,s1,app,,,2026-11-01T10:06:00Z,\n"+ // view without item
			"e1,view,u1,i1,s1,app,,,2026-11-01T10:00:00Z,office\n"), // duplicate
		writeFile(t, dir, "items.ndjson", `{"id":"i1","supplier_id":"sup1","title":"Rose perfume 50ml","category":["beauty","fragrance","perfume"],"brand":"Aurora","price":199}
{"id":"i2","supplier_id":"sup1","title":"Bad price","category":["beauty"],"price":-3}
{"id":"i3","supplier_id":"sup1","title":"No category","price":3}
`),
		writeFile(t, dir, "stores.csv", "id,name,region,city,channel,lat,lon\ns1,CBD shop,east,Shanghai,both,31.23,121.47\ns2,Bad,east,Shanghai,kiosk,,\n"),
		writeFile(t, dir, "assortments.csv", "store_id,item_id,price,in_stock,commission_rate\ns1,i1,189,true,0.1\ns1,nope,1,true,0.1\n"),
		writeFile(t, dir, "users.ndjson", `{"id":"u1","gender":"female","birth_year":1994,"city":"Shanghai","phone":"13800138000"}`+"\n"),
		writeFile(t, dir, "suppliers.ndjson", `{"id":"sup1","name":"Aurora Cosmetics"}`+"\n"),
	}
	code, out, errOut := run(t, append([]string{"import", "--dsn", dsn, "--json"}, files...)...)
	if code != 0 {
		t.Fatalf("import exit %d: %s", code, errOut)
	}
	var sums []loadSummary
	if err := json.Unmarshal([]byte(out), &sums); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	got := map[string]loadSummary{}
	var order []string
	for _, s := range sums {
		got[s.Kind] = s
		order = append(order, s.Kind)
	}
	if want := "suppliers stores items assortments users events"; strings.Join(order, " ") != want {
		t.Errorf("load order %v, want %s", order, want)
	}
	for kind, want := range map[string][3]int{ // accepted, duplicates, rejected
		"suppliers": {1, 0, 0}, "stores": {1, 0, 1}, "items": {1, 0, 2}, "assortments": {1, 0, 1}, "users": {1, 0, 0}, "events": {2, 1, 2},
	} {
		s := got[kind]
		if [3]int{s.Accepted, s.Duplicates, s.Rejected} != want {
			t.Errorf("%s: accepted/duplicates/rejected = %d/%d/%d, want %v", kind, s.Accepted, s.Duplicates, s.Rejected, want)
		}
	}
	if r := got["events"].Reasons; r["quantity: not an integer"] != 1 || len(r) != 2 {
		t.Errorf("event rejects by reason = %v", r)
	}
	if r := got["items"].Reasons; r["price: must be a number >= 0"] != 1 {
		t.Errorf("item rejects by reason = %v", r)
	}
	// The phone number is encrypted at rest: its digits are nowhere in the database files.
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, "q.db") + suffix)
		if err != nil && suffix == "" {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("13800138000")) {
			t.Errorf("phone number found in plain text in q.db%s", suffix)
		}
	}
	// A second import of the same events is all duplicates and stores nothing new.
	code, out, _ = run(t, "import", "--dsn", dsn, files[0])
	if code != 0 || !strings.Contains(out, "events") {
		t.Fatalf("second import exit %d: %s", code, out)
	}
	m := NewMain(os.Stderr)
	m.Config.DSN = dsn
	if err := m.OpenStorage(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if n, err := m.Events.CountEvents(context.Background()); err != nil || n != 2 {
		t.Fatalf("events stored = %d (%v), want 2", n, err)
	}
}

func TestCLI_UsageErrorsExit2(t *testing.T) {
	t.Parallel()
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "q.db")
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"NoCommand", nil, "Usage"},
		{"UnknownCommand", []string{"fly"}, "unknown command"},
		{"UnknownFlag", []string{"serve", "--nope"}, "nope"},
		{"ImportNoFiles", []string{"import", "--dsn", dsn}, "at least one file"},
		{"ImportUnknownKind", []string{"import", "--dsn", dsn, "--kind", "cats", "x.csv"}, "--kind"},
		{"ImportMissingFile", []string{"import", "--dsn", dsn, "/no/such/events.csv"}, "no such file"},
		{"KeysBadRole", []string{"keys", "create", "--dsn", dsn, "--role", "admin"}, "--role"},
		{"KeysStoreWithoutID", []string{"keys", "create", "--dsn", dsn, "--role", "store"}, "--id"},
		{"KeysUnknownStore", []string{"keys", "create", "--dsn", dsn, "--role", "store", "--id", "nope"}, "no store"},
		{"BadLogLevel", []string{"migrate", "--dsn", dsn, "--log-level", "loud"}, "log-level"},
		{"BadMemoryLimit", []string{"migrate", "--dsn", dsn, "--memory-limit", "lots"}, "memory-limit"},
		{"NegativeMemoryLimit", []string{"train", "--dsn", dsn, "--memory-limit", "-1GiB"}, "memory-limit"},
		{"NegativeReloadEvery", []string{"serve", "--dsn", dsn, "--reload-every", "-1m"}, "reload-every"},
		{"PostgresNotInThisBuild", []string{"migrate", "--dsn", "postgres://x"}, "dsn"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.args...)
			if code != 2 || !strings.Contains(out+errOut, tt.want) {
				t.Fatalf("exit %d, output %q; want 2 and a message containing %q", code, out+errOut, tt.want)
			}
		})
	}
}

// TestServe_AcknowledgedEventsSurviveKill9 runs the server as a separate process, posts
// events, kills it with SIGKILL right after the 2xx, and finds every acknowledged event stored.
func TestServe_AcknowledgedEventsSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	dir := t.TempDir()
	dsn := "sqlite:" + filepath.Join(dir, "q.db")
	code, token, errOut := run(t, "keys", "create", "--dsn", dsn, "--role", "operator")
	if code != 0 {
		t.Fatalf("keys create: %d %s", code, errOut)
	}
	token = strings.TrimSpace(token)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "QIANMIAN_TEST_CHILD_ARGS=serve --dsn "+dsn+" --addr "+addr+" --train-every 0 --log-level warn")
	var childErr bytes.Buffer
	cmd.Stderr = &childErr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not healthy within 30 s: %v\n%s", err, childErr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	acked := 0
	for b := 0; b < 5; b++ {
		var sb strings.Builder
		for i := 0; i < 200; i++ {
			fmt.Fprintf(&sb, `{"id":"k9-%d-%d","type":"view","user_id":"u%d","item_id":"i%d","channel":"app","occurred_at":"2026-11-01T10:00:00Z"}`+"\n", b, i, i%17, i%31)
		}
		req, _ := http.NewRequest("POST", base+"/v1/events", strings.NewReader(sb.String()))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var res qianmian.EventResult
		json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("batch %d: status %d", b, resp.StatusCode)
		}
		acked += res.Accepted
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL, no shutdown hooks
		t.Fatal(err)
	}
	cmd.Wait()
	m := NewMain(os.Stderr)
	m.Config.DSN = dsn
	if err := m.OpenStorage(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	n, err := m.Events.CountEvents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if acked != 1000 || n != int64(acked) {
		t.Fatalf("acknowledged %d events, found %d after kill -9", acked, n)
	}
}
