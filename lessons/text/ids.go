package text

// Label is the label a page in l writes beside the English id: its
// Korean label on a Korean page, "" on an English one, where the id reads
// as it is, or for an id without one.
func Label(l Lang, id string) string {
	if l == English {
		return ""
	}
	return texts[l]["id."+id]
}

// Named is an id as a page in l shows it: "produce-ack-lost (확인 응답
// 유실)" on a Korean page, the id alone on an English one. The label
// stands in parentheses after the id, so no Korean particle ever has to
// follow the id itself.
func Named(l Lang, id string) string {
	if s := Label(l, id); s != "" {
		return id + " (" + s + ")"
	}
	return id
}
