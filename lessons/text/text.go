// Package text holds the lab's interface text in Korean and English. Every
// key exists in both languages; a test fails otherwise.
package text

import "strings"

// Lang is a page language.
type Lang string

const (
	Korean  Lang = "ko"
	English Lang = "en"
)

// Langs lists the supported languages.
var Langs = []Lang{Korean, English}

// Parse returns the language named by s, if supported.
func Parse(s string) (Lang, bool) {
	for _, l := range Langs {
		if string(l) == strings.ToLower(strings.TrimSpace(s)) {
			return l, true
		}
	}
	return "", false
}

// FromAcceptLanguage picks the first supported language of an
// Accept-Language header, or English.
func FromAcceptLanguage(h string) Lang {
	for _, part := range strings.Split(h, ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(tag, "-")
		if l, ok := Parse(base); ok {
			return l
		}
	}
	return English
}

// T returns the text for key in l. An unknown key returns the key itself,
// visibly, so a typo shows on the page and in the content test.
func (l Lang) T(key string) string {
	if s, ok := texts[l][key]; ok {
		return s
	}
	return key
}

// Keys lists every key of language l.
func Keys(l Lang) []string {
	var ks []string
	for k := range texts[l] {
		ks = append(ks, k)
	}
	return ks
}

var texts = map[Lang]map[string]string{
	English: {
		"site.name":                  "Kafka Delivery Lab",
		"nav.home":                   "Home",
		"nav.compare":                "Compare",
		"broker.embedded":            "embedded broker",
		"broker.external":            "external Kafka",
		"broker.up":                  "reachable",
		"broker.down":                "not reachable",
		"lang.switch":                "한국어",
		"home.title":                 "Delivery guarantees, seen happening",
		"home.lead":                  "When a producer sends a message and a consumer processes it, a network fault or a crash can lose it or make it happen twice. Kafka lets you choose which risk to take: at most once, at least once, or exactly once. This lab runs a real bank-deposit pipeline on a real Kafka broker, breaks it on purpose, and counts what happened to every deposit.",
		"home.table":                 "The three guarantees",
		"home.col.g":                 "Guarantee",
		"home.col.meaning":           "What it promises",
		"home.col.fits":              "Fits",
		"g.amo":                      "At most once",
		"g.alo":                      "At least once",
		"g.eos":                      "Exactly once",
		"g.amo.meaning":              "Each message is processed once or not at all: never twice, but it may be lost.",
		"g.alo.meaning":              "Each message is processed at least once: never lost, but it may be processed twice.",
		"g.eos.meaning":              "Each message's effect happens exactly once, even when sends are retried and processors crash.",
		"g.amo.fits":                 "Throughput first, where losing a message is acceptable: metrics, logs.",
		"g.alo.fits":                 "Most Kafka applications, with consumers that tolerate or remove duplicates.",
		"g.eos.fits":                 "Money and counts that must be right: payments, balances, billing.",
		"home.start":                 "Start with the API while the lessons are being written: POST /api/runs runs the pipeline under a guarantee and a fault.",
		"nav.lessons":                "Lessons",
		"lesson.toc":                 "On this page",
		"panel.title":                "Run it",
		"panel.fault":                "Fault",
		"panel.preset":               "Configuration",
		"panel.preset.strict":        "strict (keeps the guarantee)",
		"panel.preset.common":        "common (as usually written)",
		"panel.messages":             "Deposits",
		"panel.pace":                 "Pause between sends (ms)",
		"panel.run":                  "Run",
		"panel.nojs":                 "Runs need JavaScript; everything else on this page works without it.",
		"panel.predict":              "Predict first: will any deposit be lost? credited twice?",
		"fault.none":                 "No fault: the happy path.",
		"fault.produce-request-lost": "The network loses one Produce request before the broker sees it; the connection breaks.",
		"fault.produce-ack-lost":     "The broker writes the deposits, then the response is lost; the producer cannot tell this from a lost request.",
		"fault.processor-crash":      "The processor dies mid-batch, after crediting some deposits and before its next commit; a new instance takes over.",
		"trace.title":                "Live trace",
		"trace.producer":             "Producer",
		"trace.broker":               "Broker log (input topic)",
		"trace.processor":            "Processor",
		"trace.ledger":               "Ledger (credits)",
		"trace.balance":              "Balance",
		"trace.expected":             "expected",
		"trace.waiting":              "Press Run to start. Each deposit's journey appears here.",
		"trace.big":                  "Large run: showing counts and every anomaly rather than every deposit.",
		"trace.legend":               "Legend",
		"verdict.title":              "Verdict",
		"verdict.held":               "held",
		"verdict.violated":           "violated",
		"result.sent":                "sent",
		"result.acked":               "acked",
		"result.credited":            "credited",
		"result.lost":                "lost",
		"result.duplicated":          "duplicated",
		"result.recovered":           "recovered",
		"result.unexpected":          "unexpected",
		"result.balance":             "balance",
		"result.throughput":          "deposits/s",
		"result.p50":                 "p50 latency (ms)",
		"result.p99":                 "p99 latency (ms)",
		"result.topics":              "Inspect the run's topics with any Kafka client (kept 10 minutes):",
		"error.run":                  "The run failed:",
		"error.start":                "Could not start the run:",
		"error.socket":               "Lost the live connection to the lab; the result is still available by refreshing.",
		"terminal.title":             "Try it from your terminal",
		"terminal.body":              "The lab's broker speaks the real Kafka protocol. Point any client at it:",
		"compare.title":              "Compare the guarantees",
		"compare.run":                "Run all three",
		"compare.table":              "Measured",
		"compare.export.csv":         "Download CSV",
		"compare.export.json":        "Download JSON",
		"compare.guarantee":          "guarantee",
		"compare.verdict":            "verdict",
		"explain.dup.ack":            "was credited twice: its ack was lost and the producer, without idempotence, sent it again.",
		"explain.dup.crash":          "was credited twice: the processor crashed after crediting it and before committing its offset, so the next instance read it again.",
		"explain.dup":                "was credited more than once.",
		"explain.lost.request":       "was lost: the request carrying it never reached the broker, and this producer does not retry.",
		"explain.lost.crash":         "was lost: its offset was committed before it was credited, then the processor crashed.",
		"explain.lost":               "was never credited.",
		"explain.recovered":          "was credited although the producer was told the send failed: the broker had written it before the response was lost.",
		"explain.unexpected":         "was credited but never sent: a bug in the pipeline.",
		"explain.none":               "Every deposit was credited exactly once.",
		"footer":                     "Runs use real Kafka clients (kafka-go, franz-go) against a real Kafka-protocol broker.",
	},
	Korean: {
		"site.name":                  "Kafka 전달 보장 실습실",
		"nav.home":                   "홈",
		"nav.compare":                "비교",
		"broker.embedded":            "내장 브로커",
		"broker.external":            "외부 Kafka",
		"broker.up":                  "연결됨",
		"broker.down":                "연결 안 됨",
		"lang.switch":                "English",
		"home.title":                 "전달 보장, 직접 일어나는 것을 보며 배우기",
		"home.lead":                  "프로듀서가 보낸 메시지를 컨슈머가 처리하는 동안 네트워크 장애나 프로세스 충돌이 일어나면 메시지가 사라지거나 두 번 처리될 수 있습니다. Kafka에서는 어떤 위험을 감수할지 고를 수 있습니다: 최대 한 번, 최소 한 번, 정확히 한 번. 이 실습실은 실제 Kafka 브로커 위에서 실제 입금 처리 파이프라인을 돌리고, 일부러 장애를 일으킨 뒤, 모든 입금 건에 무슨 일이 있었는지 셉니다.",
		"home.table":                 "세 가지 전달 보장",
		"home.col.g":                 "전달 보장",
		"home.col.meaning":           "약속하는 것",
		"home.col.fits":              "알맞은 곳",
		"g.amo":                      "최대 한 번 (At most once)",
		"g.alo":                      "최소 한 번 (At least once)",
		"g.eos":                      "정확히 한 번 (Exactly once)",
		"g.amo.meaning":              "각 메시지는 한 번 처리되거나 아예 처리되지 않습니다. 두 번 처리되는 일은 없지만 유실될 수 있습니다.",
		"g.alo.meaning":              "각 메시지는 적어도 한 번 처리됩니다. 유실되지는 않지만 두 번 처리될 수 있습니다.",
		"g.eos.meaning":              "전송이 재시도되고 처리기가 죽더라도 각 메시지의 효과는 정확히 한 번만 나타납니다.",
		"g.amo.fits":                 "메시지 일부 유실을 감수할 수 있고 처리량이 우선인 곳: 지표, 로그.",
		"g.alo.fits":                 "대부분의 Kafka 애플리케이션. 단, 컨슈머가 중복을 견디거나 걸러내야 합니다.",
		"g.eos.fits":                 "반드시 맞아야 하는 돈과 수량: 결제, 잔액, 과금.",
		"home.start":                 "레슨 페이지가 준비되는 동안에는 API로 시작하세요: POST /api/runs 가 전달 보장과 장애를 골라 파이프라인을 실행합니다.",
		"nav.lessons":                "레슨",
		"lesson.toc":                 "이 페이지의 내용",
		"panel.title":                "직접 실행하기",
		"panel.fault":                "장애",
		"panel.preset":               "설정",
		"panel.preset.strict":        "엄격 (보장을 지키는 설정)",
		"panel.preset.common":        "흔한 설정 (보통 쓰는 그대로)",
		"panel.messages":             "입금 건수",
		"panel.pace":                 "전송 간격 (ms)",
		"panel.run":                  "실행",
		"panel.nojs":                 "실행에는 JavaScript가 필요합니다. 이 페이지의 나머지 내용은 JavaScript 없이도 볼 수 있습니다.",
		"panel.predict":              "먼저 예측해 보세요: 유실되는 입금이 있을까요? 두 번 반영되는 입금은요?",
		"fault.none":                 "장애 없음: 정상 경로.",
		"fault.produce-request-lost": "네트워크가 Produce 요청 하나를 브로커에 닿기 전에 잃어버리고, 연결이 끊깁니다.",
		"fault.produce-ack-lost":     "브로커는 입금을 기록했지만 응답이 사라집니다. 프로듀서는 이것을 요청 유실과 구별할 수 없습니다.",
		"fault.processor-crash":      "처리기가 배치 도중, 일부 입금을 반영한 뒤 다음 커밋 전에 죽습니다. 새 인스턴스가 이어받습니다.",
		"trace.title":                "실시간 추적",
		"trace.producer":             "프로듀서",
		"trace.broker":               "브로커 로그 (입력 토픽)",
		"trace.processor":            "처리기",
		"trace.ledger":               "원장 (입금 반영)",
		"trace.balance":              "잔액",
		"trace.expected":             "기대값",
		"trace.waiting":              "실행을 누르면 각 입금이 거치는 과정이 여기에 나타납니다.",
		"trace.big":                  "큰 실행: 입금 하나하나 대신 합계와 모든 이상 징후를 보여 줍니다.",
		"trace.legend":               "범례",
		"verdict.title":              "판정",
		"verdict.held":               "지켜짐",
		"verdict.violated":           "깨짐",
		"result.sent":                "전송",
		"result.acked":               "확인 응답",
		"result.credited":            "반영",
		"result.lost":                "유실",
		"result.duplicated":          "중복",
		"result.recovered":           "복구됨",
		"result.unexpected":          "예상 밖",
		"result.balance":             "잔액",
		"result.throughput":          "초당 입금 수",
		"result.p50":                 "p50 지연 (ms)",
		"result.p99":                 "p99 지연 (ms)",
		"result.topics":              "아무 Kafka 클라이언트로나 이 실행의 토픽을 살펴보세요 (10분간 보관):",
		"error.run":                  "실행이 실패했습니다:",
		"error.start":                "실행을 시작하지 못했습니다:",
		"error.socket":               "실습실과의 실시간 연결이 끊겼습니다. 새로 고치면 결과를 볼 수 있습니다.",
		"terminal.title":             "터미널에서 직접 해 보기",
		"terminal.body":              "실습실의 브로커는 실제 Kafka 프로토콜을 씁니다. 어떤 클라이언트든 연결할 수 있습니다:",
		"compare.title":              "전달 보장 비교",
		"compare.run":                "세 가지 모두 실행",
		"compare.table":              "측정값",
		"compare.export.csv":         "CSV 내려받기",
		"compare.export.json":        "JSON 내려받기",
		"compare.guarantee":          "전달 보장",
		"compare.verdict":            "판정",
		"explain.dup.ack":            "이(가) 두 번 반영되었습니다: 확인 응답이 사라졌고, 멱등성이 없는 프로듀서가 다시 보냈습니다.",
		"explain.dup.crash":          "이(가) 두 번 반영되었습니다: 처리기가 반영한 뒤 오프셋을 커밋하기 전에 죽어서, 다음 인스턴스가 다시 읽었습니다.",
		"explain.dup":                "이(가) 두 번 이상 반영되었습니다.",
		"explain.lost.request":       "이(가) 유실되었습니다: 이 입금을 실은 요청이 브로커에 닿지 못했고, 이 프로듀서는 재시도하지 않습니다.",
		"explain.lost.crash":         "이(가) 유실되었습니다: 반영하기 전에 오프셋이 커밋되었고, 그 뒤 처리기가 죽었습니다.",
		"explain.lost":               "이(가) 반영되지 않았습니다.",
		"explain.recovered":          "은(는) 프로듀서가 전송 실패를 통보받았는데도 반영되었습니다: 응답이 사라지기 전에 브로커가 이미 기록했습니다.",
		"explain.unexpected":         "은(는) 보낸 적이 없는데 반영되었습니다: 파이프라인의 버그입니다.",
		"explain.none":               "모든 입금이 정확히 한 번 반영되었습니다.",
		"footer":                     "모든 실행은 실제 Kafka 프로토콜 브로커에 실제 Kafka 클라이언트(kafka-go, franz-go)로 이루어집니다.",
	},
}
