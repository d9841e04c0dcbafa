package text

import "strings"

// Term is one concept of the Korean glossary: one word per concept, in the
// lessons and the interface alike.
type Term struct {
	// Concept is the English concept, with the lab's id where it has one.
	Concept string
	// Use lists the Korean forms to write, the preferred one first. They are
	// taken out of a text before Never is looked for, so a variant that is
	// part of an approved form ("응답" in "확인 응답") is no violation there.
	Use []string
	// Never lists the variants a Korean interface text must not contain.
	Never []string
	// NeverInProse is the part of Never (or a longer form of one of them:
	// "차단됨" of "차단") that is an error in lesson prose
	// too, whatever the sentence: the unambiguous misuses. The rest of Never
	// may have other, legitimate meanings in prose ("응답" of a fetch).
	NeverInProse []string
	// Note says how to use the term.
	Note string
}

// Glossary is the Korean glossary of Kafka Delivery Lab. Its test checks
// every Korean interface text against Never and every Korean lesson
// (lessons/content/*.ko.md) against NeverInProse.
var Glossary = []Term{
	{Concept: "crash (processor-crash)", Use: []string{"비정상 종료(크래시)", "비정상 종료"},
		Never: []string{"충돌", "크래시", "죽"}, NeverInProse: []string{"충돌"},
		Note: "충돌 means collision. The first use on a page may gloss: 비정상 종료(크래시)."},
	{Concept: "ack / acknowledgement", Use: []string{"확인 응답(ack)", "확인 응답"},
		Never: []string{"응답"},
		Note:  "응답 alone is not used for an ack, nor 확인 alone."},
	{Concept: "lost (a lost deposit or request)", Use: []string{"유실"},
		Never: []string{"잃어", "잃은", "잃고", "사라지", "사라졌", "사라집"},
		Note:  "유실 / 유실되다, never 잃어버리다 or 사라지다."},
	{Concept: "duplicated", Use: []string{"중복 반영", "중복"},
		Never: []string{"반복"},
		Note:  "A deposit credited twice is 중복 (두 번 반영 where the count matters), never 반복."},
	{Concept: "recovered", Use: []string{"복구됨"}},
	{Concept: "fencing / fenced", Use: []string{"펜싱됨", "펜싱"},
		Never: []string{"차단"}, NeverInProse: []string{"차단됨"}},
	{Concept: "trace", Use: []string{"트레이스"},
		Never: []string{"추적"}, NeverInProse: []string{"추적"}},
	{Concept: "sequence number", Use: []string{"시퀀스 번호"},
		Never: []string{"순번", "일련번호", "일련 번호", "시퀀스번호"}, NeverInProse: []string{"순번"}},
	{Concept: "idempotent producer", Use: []string{"멱등성 프로듀서"},
		Never: []string{"멱등 프로듀서"}},
	{Concept: "replica / replication factor / ISR", Use: []string{"레플리카", "복제 팩터", "ISR"},
		Never: []string{"복제본", "복제 계수", "복제 인수", "복제 인자"}},
	{Concept: "downstream", Use: []string{"다운스트림"}, Never: []string{"하류"}},
	{Concept: "zero value (Go)", Use: []string{"제로 값(zero value)", "제로 값"},
		Never: []string{"제로값", "영값"}},
	{Concept: "transactional.id", Use: []string{"`transactional.id`", "트랜잭션 ID"},
		Never: []string{"트랜잭션 아이디"},
		Note:  "Written as `transactional.id`, glossed once per page: 트랜잭션 ID."},
	{Concept: "abort (a transaction)", Use: []string{"중단(abort)", "중단"},
		Never: []string{"롤백"}},
	{Concept: "producer / consumer / consumer group", Use: []string{"프로듀서", "컨슈머", "컨슈머 그룹"},
		Never: []string{"생산자", "소비자"}},
	{Concept: "commit / offset / broker / partition / topic", Use: []string{"커밋", "오프셋", "브로커", "파티션", "토픽"}},
	{Concept: "processor (the lab's)", Use: []string{"처리기"}, Never: []string{"프로세서"}},
	{Concept: "auditor / checker", Use: []string{"감사기(auditor)", "검사기(checker)", "감사기", "검사기"},
		Note: "Each glossed once per page with what it does."},
	{Concept: "verdict / held / violated", Use: []string{"판정", "보장 유지", "보장 위반"},
		Never: []string{"지켜짐", "깨짐", "지켜졌", "깨졌"}, NeverInProse: []string{"지켜짐", "깨짐"}},
	{Concept: "deposit / credit / ledger / balance", Use: []string{"입금", "반영", "잔액에 반영", "원장", "잔액"}},
	{Concept: "run / downloaded run file", Use: []string{"실행 기록 파일"},
		Never: []string{"실행 파일", "실행파일"}, NeverInProse: []string{"실행 파일"},
		Note: "One run is 실행; the file a run downloads as is 실행 기록 파일, since 실행 파일 means an executable."},
	{Concept: "preset strict / common", Use: []string{"strict(엄격한 설정)", "common(흔한 설정)"},
		Note: "Shown with the id beside the Korean label: \"common (흔한 설정: 보통 쓰는 그대로)\"."},
	{Concept: "fault", Use: []string{"장애"}, Never: []string{"결함", "고장"}},
	{Concept: "the metaphor", Use: []string{"영수증이 나오기 전에 멈춘 ATM"},
		Never: []string{"야간 금고"}},
	{Concept: "zombie (processor-stall)", Use: []string{"좀비"},
		Note: "A processor that froze and woke after the group replaced it; 멈춤 for the stall itself."},
	{Concept: "session timeout / heartbeat", Use: []string{"세션 타임아웃", "하트비트"},
		Never: []string{"세션 시간 초과", "심장 박동"}},
	{Concept: "side effect / notification (outside Kafka)", Use: []string{"부수 효과", "알림"},
		Never: []string{"사이드 이펙트", "통지"}},
	{Concept: "idempotent receiver", Use: []string{"멱등 수신자"}, Never: []string{"멱등성 수신자", "멱등 수신기"}},
	{Concept: "a particle after an id", Use: nil,
		Never: []string{"이(가)", "은(는)", "을(를)", "와(과)", "(으)로"},
		Note:  "Never \"d-000010 이(가)\": write the id then a particle-free phrase (\"d-000010: 두 번 반영되었습니다\") or \"입금 d-000010은\"."},
}

// Misuse is a forbidden variant found in a Korean text.
type Misuse struct {
	Term    *Term
	Variant string
}

// Misused lists the glossary's forbidden variants in s: every Never of
// every term for an interface text, only NeverInProse for lesson prose.
func Misused(s string, prose bool) []Misuse {
	var out []Misuse
	for i := range Glossary {
		term := &Glossary[i]
		rest := s
		for _, u := range term.Use {
			rest = strings.ReplaceAll(rest, u, "\x00")
		}
		never := term.Never
		if prose {
			never = term.NeverInProse
		}
		for _, v := range never {
			if strings.Contains(rest, v) {
				out = append(out, Misuse{term, v})
			}
		}
	}
	return out
}
