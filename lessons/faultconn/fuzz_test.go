package faultconn

import (
	"bytes"
	"testing"
)

// FuzzRequestFrames feeds arbitrary bytes, cut at arbitrary points, through
// the request side with a Rule set. It must never panic, and whatever it
// forwards is the input up to the first dropped request, unchanged, less
// only the unfinished frame it holds back at the end.
func FuzzRequestFrames(f *testing.F) {
	f.Add(sampleRequests(), []byte{1})
	f.Add(sampleRequests(), []byte{7, 3, 200, 1, 64})
	f.Add(appendRequest(nil, produceRequest(9, nil, -1, recordBatch([]string{"a", "b", "c"}, false)), 1, "lab"), []byte{255})
	f.Add(appendRequest(nil, metadataRequest(), 1, ""), []byte{2})
	f.Add([]byte{0, 0, 0, 8, 0, 0, 0, 9, 0, 0, 0, 1}, []byte{1}) // Produce with an empty body
	f.Fuzz(func(t *testing.T, data, cuts []byte) {
		if len(cuts) == 0 {
			cuts = []byte{0}
		}
		for _, rule := range []Rule{
			func(*Produce) Action { return Pass },
			func(p *Produce) Action { return Action(len(p.Keys) % 3) },
		} {
			w := &wire{}
			c := Wrap(w, &Config{Rule: rule, OnFrame: func(Frame) {}})
			dropped := false
			for i, k := 0, 0; i < len(data) && !dropped; k++ {
				n := min(int(cuts[k%len(cuts)])+1, len(data)-i)
				m, err := c.Write(data[i : i+n])
				if err != nil {
					dropped = true // reset: a dropped request, or a frame too large to hold
					break
				}
				if m != n {
					t.Fatalf("Write(%d bytes) = %d", n, m)
				}
				dropped = c.reset.Load() != nil
				i += n
			}
			if !bytes.HasPrefix(data, w.sent) {
				t.Fatalf("forwarded bytes are not the input's prefix")
			}
			if dropped {
				continue
			}
			var held int // bytes of an unfinished frame not forwarded yet
			switch {
			case c.w.opaque:
			case c.w.holding:
				held = len(c.w.frame)
			case c.w.nhdr < requestHeaderLen:
				held = c.w.nhdr
			}
			if len(w.sent)+held != len(data) {
				t.Fatalf("forwarded %d bytes and held %d of %d", len(w.sent), held, len(data))
			}
		}
	})
}
