package content

import "testing"

// TestFoldKeepsChangesAndTheirContext: unchanged lines far from a change
// fold into one line that counts them; changes keep two lines each side.
func TestFoldKeepsChangesAndTheirContext(t *testing.T) {
	var lines []DiffLine
	for i := range 12 {
		op := Same
		if i == 6 {
			op = Added
		}
		lines = append(lines, DiffLine{Code: string(rune('a' + i)), Op: op})
	}
	got := fold(lines, 2)
	want := []DiffLine{{Op: Fold, Folded: 4}, {Code: "e", Op: Same}, {Code: "f", Op: Same}, {Code: "g", Op: Added}, {Code: "h", Op: Same}, {Code: "i", Op: Same}, {Op: Fold, Folded: 3}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("line %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
