package main

import (
	"encoding/json"
	"strings"

	"github.com/kafka-delivery-lab/lab/lessons"
	"github.com/kafka-delivery-lab/lab/lessons/text"
	"github.com/kafka-delivery-lab/lab/views"
)

// scriptTexts are the text keys the pages' scripts show.
var scriptTexts = []string{"panel.", "trace.", "verdict.", "result.", "error.", "explain.", "compare.", "control.", "watch.", "predict.", "replay.", "progress.", "fault."}

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

func (a *app) panel(l text.Lang, guarantee string) views.RunPanel {
	var faults []string
	for _, f := range lessons.Faults() {
		faults = append(faults, string(f.ID))
	}
	return views.RunPanel{Guarantee: guarantee, Faults: faults, I18N: scriptI18N[l], Broker: a.broker.Addrs()[0]}
}
