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
		"site.name":        "Kafka Delivery Lab",
		"nav.home":         "Home",
		"nav.compare":      "Compare",
		"broker.embedded":  "embedded broker",
		"broker.external":  "external Kafka",
		"broker.up":        "reachable",
		"broker.down":      "not reachable",
		"lang.switch":      "한국어",
		"home.title":       "Delivery guarantees, seen happening",
		"home.lead":        "When a producer sends a message and a consumer processes it, a network fault or a crash can lose it or make it happen twice. Kafka lets you choose which risk to take: at most once, at least once, or exactly once. This lab runs a real bank-deposit pipeline on a real Kafka broker, breaks it on purpose, and counts what happened to every deposit.",
		"home.table":       "The three guarantees",
		"home.col.g":       "Guarantee",
		"home.col.meaning": "What it promises",
		"home.col.fits":    "Fits",
		"g.amo":            "At most once",
		"g.alo":            "At least once",
		"g.eos":            "Exactly once",
		"g.amo.meaning":    "Each message is processed once or not at all: never twice, but it may be lost.",
		"g.alo.meaning":    "Each message is processed at least once: never lost, but it may be processed twice.",
		"g.eos.meaning":    "Each message's effect happens exactly once, even when sends are retried and processors crash.",
		"g.amo.fits":       "Throughput first, where losing a message is acceptable: metrics, logs.",
		"g.alo.fits":       "Most Kafka applications, with consumers that tolerate or remove duplicates.",
		"g.eos.fits":       "Money and counts that must be right: payments, balances, billing.",
		"home.start":       "Start with the API while the lessons are being written: POST /api/runs runs the pipeline under a guarantee and a fault.",
		"footer":           "Runs use real Kafka clients (kafka-go, franz-go) against a real Kafka-protocol broker.",
	},
	Korean: {
		"site.name":        "Kafka 전달 보장 실습실",
		"nav.home":         "홈",
		"nav.compare":      "비교",
		"broker.embedded":  "내장 브로커",
		"broker.external":  "외부 Kafka",
		"broker.up":        "연결됨",
		"broker.down":      "연결 안 됨",
		"lang.switch":      "English",
		"home.title":       "전달 보장, 직접 일어나는 것을 보며 배우기",
		"home.lead":        "프로듀서가 보낸 메시지를 컨슈머가 처리하는 동안 네트워크 장애나 프로세스 충돌이 일어나면 메시지가 사라지거나 두 번 처리될 수 있습니다. Kafka에서는 어떤 위험을 감수할지 고를 수 있습니다: 최대 한 번, 최소 한 번, 정확히 한 번. 이 실습실은 실제 Kafka 브로커 위에서 실제 입금 처리 파이프라인을 돌리고, 일부러 장애를 일으킨 뒤, 모든 입금 건에 무슨 일이 있었는지 셉니다.",
		"home.table":       "세 가지 전달 보장",
		"home.col.g":       "전달 보장",
		"home.col.meaning": "약속하는 것",
		"home.col.fits":    "알맞은 곳",
		"g.amo":            "최대 한 번 (At most once)",
		"g.alo":            "최소 한 번 (At least once)",
		"g.eos":            "정확히 한 번 (Exactly once)",
		"g.amo.meaning":    "각 메시지는 한 번 처리되거나 아예 처리되지 않습니다. 두 번 처리되는 일은 없지만 유실될 수 있습니다.",
		"g.alo.meaning":    "각 메시지는 적어도 한 번 처리됩니다. 유실되지는 않지만 두 번 처리될 수 있습니다.",
		"g.eos.meaning":    "전송이 재시도되고 처리기가 죽더라도 각 메시지의 효과는 정확히 한 번만 나타납니다.",
		"g.amo.fits":       "메시지 일부 유실을 감수할 수 있고 처리량이 우선인 곳: 지표, 로그.",
		"g.alo.fits":       "대부분의 Kafka 애플리케이션. 단, 컨슈머가 중복을 견디거나 걸러내야 합니다.",
		"g.eos.fits":       "반드시 맞아야 하는 돈과 수량: 결제, 잔액, 과금.",
		"home.start":       "레슨 페이지가 준비되는 동안에는 API로 시작하세요: POST /api/runs 가 전달 보장과 장애를 골라 파이프라인을 실행합니다.",
		"footer":           "모든 실행은 실제 Kafka 프로토콜 브로커에 실제 Kafka 클라이언트(kafka-go, franz-go)로 이루어집니다.",
	},
}
