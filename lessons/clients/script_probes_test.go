package clients

// The three clients probed by a program of their own (testdata): it does
// what each row asks and prints one line per row,
//
//	RESULT<TAB>key<TAB>value<TAB>how
//
// value being "ok", "ok N" (records read), "ERROR <what the client raised>",
// or the observed value; the Go side checks the broker's state and builds
// the cells.

import (
	"strconv"
	"strings"
)

// scriptClients names the columns whose probes are programs.
var scriptClients = map[string]Client{
	"kafka-python":    {ID: "kafka-python", Name: "kafka-python", Language: "Python"},
	"confluent-kafka": {ID: "confluent-kafka", Name: "confluent-kafka (librdkafka)", Language: "Python"},
	"java":            {ID: "java", Name: "kafka-clients (Java)", Language: "Java 17"},
}

type scriptResult struct{ value, how string }

func probeScript(e *probeEnv, argv []string) map[string]Cell {
	e.client = scriptClients[e.id]
	out := runProbe(e.t, argv, e.addr, e.prefix)
	res := map[string]scriptResult{}
	for line := range strings.Lines(out) {
		f := strings.Split(strings.TrimRight(line, "\r\n"), "\t")
		if len(f) >= 3 && f[0] == "RESULT" {
			r := scriptResult{value: f[2]}
			if len(f) > 3 {
				r.how = f[3]
			}
			res[f[1]] = r
		}
	}
	e.client.Version = res["version"].value
	if e.client.Version == "" {
		e.t.Errorf("%s printed no version:\n%s", argv[len(argv)-1], out)
	}
	// errOf is the error a capability probe reported, or "" for ok.
	errOf := func(key string) string {
		v, ok := res[key]
		switch {
		case !ok:
			return "the probe printed no result"
		case strings.HasPrefix(v.value, "ok"):
			return ""
		}
		return strings.TrimPrefix(v.value, "ERROR ")
	}
	cells := map[string]Cell{}
	cells["idempotent-producer"] = e.checkIdempotent(res["idem"].how, errOf("idem"), "")
	cells["transactional-producer"] = e.checkTransactional(errOf("txn"), "")
	var keys []string
	if v := res["rc"].value; v != "" && !strings.HasPrefix(v, "ERROR") {
		keys = strings.Split(v, ",")
	}
	rcErr := ""
	if strings.HasPrefix(res["rc"].value, "ERROR") {
		rcErr = errOf("rc")
	} else if _, ok := res["rc"]; !ok {
		rcErr = "the probe printed no result"
	}
	cells["read-committed"] = e.readCommittedCell(keys, rcErr, "")
	cells["txn-offset-commit"] = e.checkTxnOffsetCommit(res["eos"].how, errOf("eos"), "")
	n := 0
	if v, ok := strings.CutPrefix(res["kip848"].value, "ok "); ok {
		n, _ = strconv.Atoi(v)
	}
	cells["kip-848"] = e.checkKIP848(res["kip848"].how, n, errOf("kip848"), "")

	def := func(key string, cell func(value, how string) Cell) Cell {
		r, ok := res[key]
		if !ok {
			return Cell{OK: no(), Value: "not measured", Evidence: "the probe printed no " + key}
		}
		return cell(r.value, r.how)
	}
	cells["acks"] = def("acks", acksCell)
	cells["retries"] = def("retries", retriesCell)
	cells["idempotence"] = def("idempotence", func(v, h string) Cell { return boolCell(v, h, true) })
	cells["auto-commit"] = def("auto_commit", func(v, h string) Cell { return boolCell(v, h, false) })
	cells["auto-commit-interval"] = def("auto_commit_interval", func(v, h string) Cell { return intervalCell(v, h+" = "+v) })
	cells["isolation-level"] = def("isolation", isolationCell)
	return cells
}
