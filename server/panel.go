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
	"predict.ask": true, "predict.title": true, "predict.result": true, "control.keys": true, "control.presenter": true,
}

// scriptI18N is, per language, the JSON of those texts, and sandboxI18N
// that of the sandbox's and the levels' pages, which also show theirs:
// built once, since the texts never change while the app runs.
var (
	scriptI18N  = i18nJSON(scriptTexts)
	sandboxI18N = i18nJSON(append(slices.Clip(scriptTexts), "sandbox.", "blame.", "level."))
	// The home page's progress box, and the replay page's error.
	homeI18N   = i18nJSON(append(slices.Clip(scriptTexts), "progress."))
	replayI18N = i18nJSON(append(slices.Clip(scriptTexts), "replay."))
)

// i18nJSON is, per language, the JSON of the texts whose keys start with
// one of prefixes.
func i18nJSON(prefixes []string) map[text.Lang]string {
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
				if strings.HasPrefix(k, prefix) && !serverOnly[k] {
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
	return views.RunPanel{Guarantee: guarantee, Faults: lessons.Faults(), Presets: g.Presets, I18N: scriptI18N[l], Broker: a.broker.Addrs()[0], Cluster: a.cluster != nil}
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
