package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// replayFixture plays a recorded run file through /replay and waits for its
// verdict; it returns the file's events, to find moments in.
func replayFixture(t *testing.T, ctx context.Context, base, lang, file string) []map[string]any {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/replay?lang="+lang),
		chromedp.SetUploadFiles(chromedp.CSS("[data-testid=replay-file]"), []string{path}),
		chromedp.WaitVisible(chromedp.CSS("[data-testid=verdict-word]")),
	)
	if err != nil {
		t.Fatal(err)
	}
	return f.Events
}

// slideTo moves the picture's time slider to n events.
func slideTo(t *testing.T, ctx context.Context, n int) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const s = document.querySelector("[data-testid=time]"); s.value = %d; s.dispatchEvent(new Event("input")); return true; })()`, n)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err != nil {
		t.Fatal(err)
	}
}

// replicaStep is the index of the first replicas event whose leader is
// leader (after index from), or -1.
func replicaStep(events []map[string]any, from int, leader float64) int {
	for i := from; i < len(events); i++ {
		if r, ok := events[i]["replicas"].(map[string]any); ok && events[i]["kind"] == "replicas" && r["leader"] == leader {
			return i
		}
	}
	return -1
}

func captionOf(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=caption]").textContent`))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestBrowserPictureOfALeaderCrash: a leader-crash run recorded on a real
// three-broker cluster (go run ./server -cluster 3, Kafka 4.4.0), replayed.
// The picture draws the input partition's brokers (the leader by a word, a
// star and a frame; paused and killed ones dashed and crossed out), the kill
// and the election as captioned moments the time slider reaches, and, under
// acks=1, the acknowledged deposits that died with the leader; under
// acks=all, none acknowledged while the leader was alone. The event table
// says each step in words. Screenshots in both languages.
func TestBrowserPictureOfALeaderCrash(t *testing.T) {
	needChromium(t)
	a, _ := newTestApp(t, 1)
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	ctx := browser(t)
	const pic = "[data-testid=picture] "
	for _, lang := range []string{"en", "ko"} {
		events := replayFixture(t, ctx, srv.URL, lang, "leader-crash-at-most-once.json")
		if n := count(t, ctx, "[data-testid=replicas]"); n != 5 {
			t.Errorf("%s: the event table has %d replicas lines, want the 5 steps of leader-crash", lang, n)
		}
		kill := replicaStep(events, 0, -1)
		elected := replicaStep(events, kill, 2)
		if kill < 0 || elected < 0 {
			t.Fatalf("the fixture has no kill (%d) or election (%d)", kill, elected)
		}

		// Before the kill: leader 1 alone, its followers paused, and the
		// deposits it acknowledged meanwhile on it only.
		slideTo(t, ctx, kill)
		if count(t, ctx, pic+".replica") != 3 || count(t, ctx, pic+".replica.leader") != 1 || count(t, ctx, pic+".replica.paused") != 2 {
			t.Errorf("%s: before the kill, want 3 brokers, 1 leader, 2 paused", lang)
		}
		if n := count(t, ctx, pic+".box.only"); n == 0 {
			t.Errorf("%s: before the kill no deposit is drawn acknowledged by the leader alone", lang)
		}
		shootPicture(t, ctx, "picture-leader-crash-before-kill-"+lang)

		// The kill: the leader crossed out, no leader, the deposits it
		// acknowledged alone vanished, in the caption too.
		slideTo(t, ctx, kill+1)
		if count(t, ctx, pic+".replica.killed") != 1 || count(t, ctx, pic+".replica.leader") != 0 {
			t.Errorf("%s: at the kill, want one broker killed and no leader", lang)
		}
		if n := count(t, ctx, pic+`.box.vanished[data-id]`); n != 22 { // 11 in the producer's band, 11 in the brokers'
			t.Errorf("%s: at the kill %d deposit boxes are drawn vanished, want 11 twice", lang, n)
		}
		if c := captionOf(t, ctx); !strings.Contains(c, "11") || !strings.Contains(c, "SIGKILL") {
			t.Errorf("%s: the kill's caption %q does not say the 11 acknowledged deposits die", lang, c)
		}
		shootPicture(t, ctx, "picture-leader-crash-kill-"+lang)

		slideTo(t, ctx, elected+1)
		if count(t, ctx, pic+".replica.leader") != 1 || count(t, ctx, pic+".replica.killed") != 1 {
			t.Errorf("%s: after the election, want a new leader and the old one still dead", lang)
		}
		if c := captionOf(t, ctx); !strings.Contains(c, "3.6") {
			t.Errorf("%s: the election's caption %q does not say it came 3.6 s after the kill", lang, c)
		}
		shootPicture(t, ctx, "picture-leader-crash-elected-"+lang)

		// The end: every broker back, the 11 checked lost.
		slideTo(t, ctx, len(events))
		if n := count(t, ctx, pic+".box.vanished.lost"); n != 11 {
			t.Errorf("%s: at the end %d deposits are drawn acknowledged and lost, want 11", lang, n)
		}
		if count(t, ctx, pic+".replica.killed") != 0 {
			t.Errorf("%s: at the end a broker is still drawn killed", lang)
		}
		checker, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("[data-testid=picture] .checker").textContent`))
		if err != nil || !strings.Contains(checker, " 11") {
			t.Errorf("%s: the checker line %q does not count 11 acknowledged deposits lost", lang, checker)
		}
		shootPicture(t, ctx, "picture-leader-crash-end-"+lang)

		// acks=all: nothing acknowledged while the leader was alone; the
		// producer's retries reach the new leader.
		events = replayFixture(t, ctx, srv.URL, lang, "leader-crash-at-least-once.json")
		kill = replicaStep(events, 0, -1)
		slideTo(t, ctx, kill+1)
		if count(t, ctx, pic+".box.vanished") != 0 || count(t, ctx, pic+".box.only") != 0 {
			t.Errorf("%s: acks=all drew deposits acknowledged by the leader alone", lang)
		}
		if n := count(t, ctx, pic+`.box.sent[data-id^="d-"]`); n < 11 {
			t.Errorf("%s: acks=all at the kill: %d deposits drawn waiting for an answer, want the 11 sent while the leader was alone", lang, n)
		}
		shootPicture(t, ctx, "picture-leader-crash-acks-all-kill-"+lang)
		slideTo(t, ctx, len(events))
		if count(t, ctx, pic+".box.vanished") != 0 {
			t.Errorf("%s: acks=all at the end drew vanished deposits", lang)
		}
		shootPicture(t, ctx, "picture-leader-crash-acks-all-end-"+lang)
	}
}
