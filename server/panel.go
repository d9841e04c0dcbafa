package main

import (
	"encoding/json"
	"strings"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/text"
	"github.com/kafka-delivery-lab/lab/views"
)

// scriptTexts are the text keys the pages' scripts show.
var scriptTexts = []string{"panel.", "trace.", "verdict.", "result.", "error.", "explain.", "compare.", "control.", "watch.", "predict.", "replay.", "progress.", "fault.", "claim.", "expect.", "pic.", "chart."}

// scriptI18N is, per language, the JSON of those texts: built once, since
// the texts never change while the app runs.
var scriptI18N = func() map[text.Lang]string {
	out := map[text.Lang]string{}
	for _, l := range text.Langs {
		t := map[string]string{}
		for _, k := range text.Keys(l) {
			for _, prefix := range scriptTexts {
				if strings.HasPrefix(k, prefix) {
					t[k] = l.T(k)
				}
			}
		}
		b, _ := json.Marshal(t) // a map of strings always encodes
		out[l] = string(b)
	}
	return out
}()

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
