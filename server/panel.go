package main

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/text"
	"github.com/kafka-delivery-lab/lab/views"
)

// scriptTexts are the text keys the pages' scripts show, but for
// serverOnly: the run form's, the watch and compare pages' own and these,
// which the server renders and no script reads, are left out of every
// page's script texts (the lesson page's budget is 180 KB).
var scriptTexts = []string{"trace.", "verdict.", "result.", "error.", "explain.", "control.", "predict.", "replay.download", "fault.", "claim.", "expect.", "pic.", "chart."}

var serverOnly = map[string]bool{
	"replay.body": true, "replay.file": true, "replay.link": true, "replay.title": true,
	"progress.title": true, "progress.continue": true, "progress.export": true, "progress.import": true,
	"fault.needs.cluster": true,
	"predict.ask":         true, "predict.title": true, "predict.result": true, "control.keys": true, "control.presenter": true,
}

// scriptI18N is, per language, the JSON of those texts, and sandboxI18N
// that of the sandbox's and the levels' pages, which also show theirs:
// built once, since the texts never change while the app runs.
var (
	scriptI18N  = i18nJSON(scriptTexts, nil)
	sandboxI18N = i18nJSON(append(slices.Clip(scriptTexts), "sandbox.", "blame.", "level."), nil)
	// The home page's progress box, and the replay page's error.
	homeI18N   = i18nJSON(append(slices.Clip(scriptTexts), "progress."), nil)
	replayI18N = i18nJSON(append(slices.Clip(scriptTexts), "replay."), nil)
	// panelI18N is a run form's (lesson and compare pages): without the
	// faults' descriptions, which the form shows with data-t and
	// catalog.js texts() reads from there (1.4 KB of a Korean lesson
	// page, which has a 180 KB budget).
	panelI18N = i18nJSON(scriptTexts, formTexts())
)

// formTexts are the keys of the texts the run form renders with data-t.
func formTexts() map[string]bool {
	m := map[string]bool{}
	for _, f := range lessons.Faults() {
		m[f.TextKey] = true
	}
	return m
}

// i18nJSON is, per language, the JSON of the texts whose keys start with
// one of prefixes, but for those in omit.
func i18nJSON(prefixes []string, omit map[string]bool) map[text.Lang]string {
	out := map[text.Lang]string{}
	for _, l := range text.Langs {
		t := map[string]string{}
		var ids []string
		for _, k := range text.Keys(l) {
			if id, ok := strings.CutPrefix(k, "id."); ok {
				if label := text.Label(l, id); label != "" {
					ids = append(ids, id+"="+label)
				}
			}
			for _, prefix := range prefixes {
				if strings.HasPrefix(k, prefix) && !serverOnly[k] && !omit[k] {
					t[k] = l.T(k)
				}
			}
		}
		// The ids' labels, as one text "id=label;id=label" (catalog.js
		// named): a Korean page's only, since an English one shows the ids
		// alone (text.Named), and one text, since each key costs the page
		// its escaped quotes (the lesson page's budget is 180 KB).
		if len(ids) > 0 {
			slices.Sort(ids)
			t["ids"] = strings.Join(ids, ";")
		}
		b, _ := json.Marshal(t) // a map of strings always encodes
		out[l] = string(b)
	}
	return out
}

// panel is the run form of a lesson (guarantee) or of the compare page
// (""), with the catalog's faults and the guarantee's presets.
func (a *app) panel(l text.Lang, guarantee string) views.RunPanel {
	g, _ := lessons.LookupGuarantee(lessons.GuaranteeID(guarantee))
	return views.RunPanel{Guarantee: guarantee, Faults: lessons.Faults(), Presets: g.Presets, I18N: panelI18N[l], Broker: a.broker.Addrs()[0], Cluster: a.cluster != nil}
}

// catalogJSON is the catalog as GET /api/catalog answers it, and
// pageCatalog as the pages' scripts read it (<script id="lab-catalog"
// type="application/json">): without the claim table, which no script
// reads, to keep every page light. Both built once: the catalog never
// changes while the app runs.
var catalogJSON, pageCatalog = func() (string, json.RawMessage) {
	doc := lessons.Catalog()
	all, err := json.Marshal(doc)
	if err != nil {
		panic(err) // plain structs of strings, numbers and bools always encode
	}
	doc.Claims = nil
	page, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return string(all), page
}()

// injectableFaults are the faults a presenter can inject into a running run.
func injectableFaults() []lessons.Fault {
	var out []lessons.Fault
	for _, id := range lessons.Injectable() {
		f, _ := lessons.LookupFault(id)
		out = append(out, f)
	}
	return out
}
