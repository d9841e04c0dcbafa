package text

// Partitions, processor groups and the rebalance fault (issue 13): their
// texts, kept in a block of their own and joined into texts (text.go).
var partitionTexts = map[Lang]map[string]string{
	English: {
		"fault.rebalance":       "A new processor instance joins the group mid-run, while another holds credited, uncommitted deposits; the group moves partitions to it. Nothing crashes.",
		"explain.dup.rebalance": "credited twice — its partition moved to the instance that joined before the instance that credited it had committed it, so the new owner read it again from the committed offset.",
		"result.reordered":      "credited out of their account's order",
		"form.partitions":       "Partitions",
		"form.processors":       "Processors",
		"pic.partition.n":       "partition {n}",
		"pic.owner":             "processed by {instance}",
		"pic.assigned":          "{instance} now processes partition {partition}.",
		"pic.revoked":           "Partition {partition} moved away from {instance}.",
		"pic.joined":            "{instance} joins the group: the group rebalances.",
		"pic.partitions.note":   "Each partition is its own log with its own offsets; each account's deposits are on one partition, in order.",
		"home.col.rebalance":    "Rebalance (measured)",
		"g.amo.rebalance":       "Neither, in this run: the batch was committed before it was credited.",
		"g.alo.rebalance":       "Neither: the strict preset commits what it credited when its partitions are revoked, before they move.",
		"pic.commit.revoke":     "{instance} commits on revoke: partition {partition} up to offset {offset}, before the group moves it.",
		"g.eos.rebalance":       "Neither: the transaction open when the partitions moved is aborted and redone by the new owner.",
	},
	Korean: {
		"fault.rebalance":       "실행 도중 새 처리기 인스턴스가 컨슈머 그룹에 합류해, 다른 인스턴스가 반영만 하고 아직 커밋하지 않은 입금을 들고 있는 사이 파티션 일부를 가져갑니다. 비정상 종료는 없습니다.",
		"explain.dup.rebalance": "두 번 반영되었습니다 — 반영한 인스턴스가 커밋하기 전에 파티션이 새로 합류한 인스턴스로 옮겨져, 새 담당 인스턴스가 커밋된 오프셋부터 다시 읽었습니다.",
		"result.reordered":      "계정 내 순서가 뒤바뀌어 반영됨",
		"form.partitions":       "파티션 수",
		"form.processors":       "처리기 수",
		"pic.partition.n":       "파티션 {n}",
		"pic.owner":             "담당: {instance}",
		"pic.assigned":          "파티션 {partition}: 이제 {instance} 인스턴스가 처리합니다.",
		"pic.revoked":           "파티션 {partition}: {instance} 인스턴스에서 다른 인스턴스로 옮겨졌습니다.",
		"pic.joined":            "{instance} 인스턴스가 컨슈머 그룹에 합류합니다. 그룹이 리밸런스됩니다.",
		"pic.partitions.note":   "파티션마다 오프셋이 따로 있는 별개의 로그입니다. 한 계정의 입금은 모두 한 파티션에 순서대로 들어갑니다.",
		"home.col.rebalance":    "리밸런스 (측정)",
		"g.amo.rebalance":       "이 실행에서는 유실도 중복도 없습니다. 반영하기 전에 커밋했기 때문입니다.",
		"g.alo.rebalance":       "유실도 중복도 없습니다: strict(엄격한 설정)는 파티션이 회수될 때, 옮겨지기 전에 반영한 만큼 커밋합니다.",
		"pic.commit.revoke":     "{instance}: 파티션 회수 직전 커밋 — 그룹이 옮기기 전에 파티션 {partition}을 오프셋 {offset}까지.",
		"g.eos.rebalance":       "유실도 중복도 없습니다: 파티션이 옮겨질 때 진행 중이던 트랜잭션이 중단되고 새 담당 인스턴스가 다시 처리합니다.",
	},
}
