package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// downloads saves the tab's downloads in a fresh directory and reports each
// finished one.
type downloads struct {
	dir  string
	mu   sync.Mutex
	name map[string]string // GUID -> the name the page gave the file
	done chan download
}

type download struct{ name, guid string }

func captureDownloads(t *testing.T, ctx context.Context) *downloads {
	t.Helper()
	d := &downloads{dir: t.TempDir(), name: map[string]string{}, done: make(chan download, 16)}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *cdpbrowser.EventDownloadWillBegin:
			d.mu.Lock()
			d.name[ev.GUID] = ev.SuggestedFilename
			d.mu.Unlock()
		case *cdpbrowser.EventDownloadProgress:
			if ev.State != cdpbrowser.DownloadProgressStateCompleted {
				return
			}
			d.mu.Lock()
			n := d.name[ev.GUID]
			d.mu.Unlock()
			select { // Listen's fn must not block
			case d.done <- download{n, ev.GUID}:
			default:
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior:      cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName,
		DownloadPath:  d.dir,
		EventsEnabled: new(true),
	}); err != nil {
		t.Fatal(err)
	}
	return d
}

// click clicks the button and returns the contents of the file it made the
// browser download, which must be called name.
func (d *downloads) click(t *testing.T, ctx context.Context, button, name string) []byte {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(button))); err != nil {
		t.Fatal(err)
	}
	var got download
	select {
	case got = <-d.done:
		if got.name != name {
			t.Fatalf("%s downloaded %q, want %q", button, got.name, name)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s started no download", button)
	}
	// AllowAndName saves the file under its GUID.
	b, err := os.ReadFile(filepath.Join(d.dir, got.guid))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBrowserCompareDownloads runs the compare page, downloads the table as
// CSV and as JSON with the page's buttons, and checks both files hold the
// numbers GET /api/runs/{id} gives for each of the three runs.
func TestBrowserCompareDownloads(t *testing.T) {
	needChromium(t)
	ctx, a, _ := openRunPage(t, "/compare?lang=en")
	dl := captureDownloads(t, ctx)
	err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name=fault][value="produce-ack-lost"]`)),
		chromedp.SetValue(chromedp.CSS(`input[name=messages]`), "30"),
		chromedp.Click(chromedp.CSS("[data-testid=run-button]")),
	)
	if err != nil {
		t.Fatal(err)
	}
	pollTrue(t, ctx, "the three rows", `[...document.querySelectorAll("[data-testid^=compare-row-]")].every(r => r.dataset.verdict)`)
	pageIDs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("[data-testid=run]")].map(r => r.dataset.run)`))
	if err != nil {
		t.Fatal(err)
	}
	// The table as shown: guarantee -> column -> text.
	table, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]map[string]string](`Object.fromEntries([...document.querySelectorAll("[data-testid^=compare-row-]")].map(r =>
		[r.dataset.guarantee, Object.fromEntries([...r.querySelectorAll("td")].map(c => [c.dataset.field.replace("result.", ""), c.textContent]))]))`))
	if err != nil {
		t.Fatal(err)
	}

	csvFile := dl.click(t, ctx, "[data-testid=export-csv]", "compare.csv")
	jsonFile := dl.click(t, ctx, "[data-testid=export-json]", "compare.json")
	shoot(t, ctx, "compare-downloads-en")

	// The JSON: one finished run per guarantee, each the API's run.
	var exported []struct {
		ID        string         `json:"id"`
		Guarantee string         `json:"guarantee"`
		State     string         `json:"state"`
		Result    map[string]any `json:"result"`
	}
	if err := json.Unmarshal(jsonFile, &exported); err != nil {
		t.Fatalf("compare.json: %v\n%s", err, jsonFile)
	}
	if len(exported) != 3 {
		t.Fatalf("compare.json holds %d runs, want 3", len(exported))
	}
	api := map[string]map[string]any{} // guarantee -> the API's result
	var ids []string
	for _, e := range exported {
		if _, dup := api[e.Guarantee]; dup {
			t.Fatalf("compare.json holds %s twice", e.Guarantee)
		}
		st := waitRun(t, a, e.ID)
		if st["guarantee"] != e.Guarantee || e.State != "done" {
			t.Fatalf("compare.json: run %s is %s (%s), the API says %v", e.ID, e.Guarantee, e.State, st["guarantee"])
		}
		want := st["result"].(map[string]any)
		if !reflect.DeepEqual(e.Result, want) {
			t.Errorf("compare.json for %s:\n%v\nthe API says:\n%v", e.Guarantee, e.Result, want)
		}
		api[e.Guarantee] = want
		ids = append(ids, e.ID)
	}
	for _, g := range []string{"at-most-once", "at-least-once", "exactly-once"} {
		if api[g] == nil {
			t.Fatalf("compare.json has no %s run", g)
		}
	}
	slices.Sort(ids)
	slices.Sort(pageIDs)
	if !slices.Equal(ids, pageIDs) {
		t.Fatalf("compare.json's runs %v, the page's %v", ids, pageIDs)
	}
	// The fault shows in the numbers: the columns below cannot all match by
	// chance.
	if api["at-least-once"]["duplicated"].(float64) < 1 || api["at-most-once"]["lost"].(float64)+api["at-most-once"]["recovered"].(float64) < 1 {
		t.Fatalf("a lost ack left no mark: %v", api)
	}

	// The CSV: a header and one row per guarantee, with the same numbers.
	rows, err := csv.NewReader(strings.NewReader(string(csvFile))).ReadAll()
	if err != nil {
		t.Fatalf("compare.csv: %v\n%s", err, csvFile)
	}
	// Both files list the runs in the table's order, whichever finished first.
	order := []string{"at-most-once", "at-least-once", "exactly-once"}
	for i, g := range order {
		if exported[i].Guarantee != g || (len(rows) > i+1 && rows[i+1][0] != g) {
			t.Fatalf("the files' run %d is %s (JSON) / %v (CSV), the table's is %s", i+1, exported[i].Guarantee, rows[i+1:i+2], g)
		}
	}
	head := []string{"guarantee", "sent", "credited", "lost", "duplicated", "recovered", "balance", "throughput", "p50", "p99", "verdict"}
	if len(rows) != 4 || !slices.Equal(rows[0], head) {
		t.Fatalf("compare.csv:\n%s\nwant the header %v and 3 rows", csvFile, head)
	}
	num := func(v any) string { return strconv.FormatFloat(v.(float64), 'f', -1, 64) }
	seen := map[string]bool{}
	for _, row := range rows[1:] {
		g := row[0]
		res := api[g]
		if res == nil || seen[g] {
			t.Fatalf("compare.csv row %v: unknown or repeated guarantee", row)
		}
		seen[g] = true
		lat := res["latency_ms"].(map[string]any)
		want := map[string]string{
			"sent": num(res["sent"]), "credited": num(res["credited"]), "lost": num(res["lost"]),
			"duplicated": num(res["duplicated"]), "recovered": num(res["recovered"]), "balance": num(res["balance"]),
			// Math.round, as the page does: half up.
			"throughput": num(math.Floor(res["throughput_msgs_per_s"].(float64) + 0.5)),
			"p50":        num(lat["p50"]), "p99": num(lat["p99"]),
			"verdict": res["verdict"].(string),
		}
		for i, col := range head[1:] {
			if row[i+1] != want[col] {
				t.Errorf("compare.csv %s %s = %q, the API says %q", g, col, row[i+1], want[col])
			}
			if col != "verdict" && table[g][col] != row[i+1] {
				t.Errorf("compare.csv %s %s = %q, the table shows %q", g, col, row[i+1], table[g][col])
			}
		}
	}
}

// TestBrowserPresenterKeys drives a paused presenter run with the keyboard:
// → steps one stage, f arms the chosen fault, ? shows and hides the key
// help, space resumes; keys typed in the fault menu or with Ctrl/Alt do
// nothing. A second run checks that space resumes a run opened paused.
func TestBrowserPresenterKeys(t *testing.T) {
	needChromium(t)
	a, reg := newTestApp(t, 4)
	srv := httptest.NewServer(a)
	defer srv.Close()
	ctx := browser(t)

	open := func(body string) (string, string) {
		t.Helper()
		_, out := post(t, a, "/api/runs", "", body)
		id, token := out["id"].(string), out["control_token"].(string)
		openAsPresenter(t, ctx, srv.URL, id, token)
		return id, token
	}
	key := func(k string, opts ...chromedp.KeyOption) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.KeyEvent(k, opts...)); err != nil {
			t.Fatal(err)
		}
	}
	status := func(id string) map[string]any {
		t.Helper()
		_, out := do(t, a, "GET", "/api/runs/"+id, "")
		return out
	}
	sent := func(id string) float64 { return status(id)["progress"].(map[string]any)["sent"].(float64) }
	armed := func(id string) []string {
		t.Helper()
		_, out := do(t, a, "GET", "/api/runs/"+id+"/trace", "")
		var got []string
		for _, e := range out["events"].([]any) {
			if e := e.(map[string]any); e["kind"] == "fault" && strings.Contains(e["detail"].(string), "armed") {
				got = append(got, e["detail"].(string))
			}
		}
		return got
	}
	helpShown := func() bool {
		return evalInt(t, ctx, `document.querySelector("[data-testid=controls] .keys").getClientRects().length`) > 0
	}

	id, _ := open(`{"guarantee":"at-least-once","fault":"none","messages":6,"presenter":true,"start_paused":true}`)
	r, _ := reg.Get(id)
	if !helpShown() {
		t.Fatal("the presenter view hides the key help")
	}

	// Keys typed in the fault menu, or with Ctrl / Alt (the browser's find,
	// history), are not the presenter's shortcuts.
	if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS("[data-testid=inject-fault]"))); err != nil {
		t.Fatal(err)
	}
	key("f")
	key(kb.ArrowRight)
	key("?")
	if err := chromedp.Do(ctx, chromedp.Blur(chromedp.CSS("[data-testid=inject-fault]"))); err != nil {
		t.Fatal(err)
	}
	key("f", chromedp.KeyModifiers(chromedp.ModifierCtrl))
	key(kb.ArrowRight, chromedp.KeyModifiers(chromedp.ModifierAlt))
	time.Sleep(500 * time.Millisecond)
	if n := stages(r); n != 0 || sent(id) != 0 {
		t.Fatalf("keys in the fault menu or with a modifier stepped the run: %d stages", n)
	}
	if f := armed(id); len(f) != 0 {
		t.Fatalf("keys in the fault menu or with a modifier armed a fault: %v", f)
	}
	if !helpShown() {
		t.Fatal("? in the fault menu toggled the key help")
	}

	// → lets exactly one deposit through one stage.
	key(kb.ArrowRight)
	waitFor(t, "the step", func() bool { return stages(r) >= 1 })
	time.Sleep(300 * time.Millisecond)
	if st := status(id); stages(r) != 1 || st["progress"].(map[string]any)["sent"] != 1.0 || st["paused"] != true {
		t.Fatalf("after →: %d stages, %v", stages(r), st)
	}

	// f arms the fault chosen in the menu.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("[data-testid=inject-fault]"), "produce-ack-lost")); err != nil {
		t.Fatal(err)
	}
	key("f")
	waitFor(t, "the fault to be armed", func() bool { return len(armed(id)) > 0 })
	if f := armed(id); len(f) != 1 || !strings.HasPrefix(f[0], "produce-ack-lost armed") {
		t.Fatalf("after f: %v", f)
	}

	// ? hides the key help and shows it again.
	key("?")
	pollTrue(t, ctx, "? to hide the key help", `document.querySelector("[data-testid=controls] .keys").getClientRects().length === 0`)
	key("?")
	pollTrue(t, ctx, "? to show the key help", `document.querySelector("[data-testid=controls] .keys").getClientRects().length > 0`)

	// Space resumes; the armed fault strikes.
	key(" ")
	st := waitRun(t, a, id)
	if st["paused"] != false {
		t.Fatalf("space did not resume: %v", st)
	}
	res := st["result"].(map[string]any)
	if res["duplicated"].(float64) < 1 || res["lost"].(float64) != 0 {
		t.Fatalf("the lost ack armed with f left no duplicate: %v", res)
	}
	pollTrue(t, ctx, "the verdict", `!!document.querySelector("[data-testid=verdict-word]")`)

	// Space on a finished run: refused with the API's sentence, nothing changes.
	key(" ")
	pollTrue(t, ctx, "the refusal", `!document.querySelector("[data-testid=control-error]").hidden`)
	if after := status(id); after["state"] != "done" || !reflect.DeepEqual(after["result"], st["result"]) {
		t.Fatalf("space on a finished run changed it: %v", after)
	}
	if evalInt(t, ctx, `document.querySelectorAll("[data-testid=verdict-word]").length`) != 1 {
		t.Fatal("the verdict is gone or doubled")
	}
	shoot(t, ctx, "presenter-keys-en")

	// A run opened paused: the first key pressed is space, and it resumes.
	id2, _ := open(`{"guarantee":"exactly-once","fault":"none","messages":4,"presenter":true,"start_paused":true}`)
	if status(id2)["paused"] != true {
		t.Fatal("a run started paused is not paused")
	}
	key(" ")
	waitFor(t, "space to resume a run opened paused", func() bool { return status(id2)["paused"] == false })
	waitRun(t, a, id2)
}
