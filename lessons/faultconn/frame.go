package faultconn

import (
	"encoding/binary"

	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	// requestHeaderLen is the fixed prefix of every request frame: size,
	// api key, api version, correlation id. It is all the wrapper needs to
	// route a frame; the client id and tagged fields that follow vary in
	// length and are only skipped when a Produce body must be decoded.
	requestHeaderLen = 4 + 2 + 2 + 4

	// responseHeaderLen is the fixed prefix of every response frame: size
	// and correlation id. A response carries no api key: the broker answers
	// each connection's requests in order, so the key comes from the
	// request with the same correlation id.
	responseHeaderLen = 4 + 4

	// produceKey is the api key of Produce, the only request a Rule sees.
	produceKey = 0

	// maxBufferedFrame bounds the Produce frame the wrapper holds back to ask
	// the Rule about. A broker refuses requests above socket.request.max.bytes
	// (100 MiB by default); clients send far less (max.request.size 1 MiB).
	maxBufferedFrame = 64 << 20
)

// requestHeader is the fixed prefix of a request frame.
type requestHeader struct {
	size          int32 // bytes after the size field
	apiKey        int16
	apiVersion    int16
	correlationID int32
}

func parseRequestHeader(b []byte) requestHeader {
	return requestHeader{
		size:          int32(binary.BigEndian.Uint32(b)),
		apiKey:        int16(binary.BigEndian.Uint16(b[4:])),
		apiVersion:    int16(binary.BigEndian.Uint16(b[6:])),
		correlationID: int32(binary.BigEndian.Uint32(b[8:])),
	}
}

// parseProduce decodes a whole Produce request frame. It reports false for
// anything malformed: the frame is then passed on untouched and the broker
// rejects it, as it would without the wrapper.
func parseProduce(frame []byte, withKeys bool) (*Produce, bool) {
	h := parseRequestHeader(frame)
	b := frame[requestHeaderLen:]

	// The client id is a nullable int16-length string even in flexible
	// header versions, which only append tagged fields after it.
	if len(b) < 2 {
		return nil, false
	}
	n := int(int16(binary.BigEndian.Uint16(b)))
	b = b[2:]
	if n < -1 || n > len(b) {
		return nil, false
	}
	if n > 0 {
		b = b[n:]
	}

	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(h.apiVersion)
	if req.IsFlexible() {
		var ok bool
		if b, ok = skipTaggedFields(b); !ok {
			return nil, false
		}
	}
	if req.ReadFrom(b) != nil {
		return nil, false
	}

	p := &Produce{
		Version:       h.apiVersion,
		CorrelationID: h.correlationID,
		Acks:          req.Acks,
	}
	if req.TransactionID != nil {
		p.TransactionalID = *req.TransactionID
	}
	for _, t := range req.Topics {
		for _, part := range t.Partitions {
			if !withKeys {
				break
			}
			p.Keys = appendBatchKeys(p.Keys, part.Records)
		}
	}
	return p, true
}

// skipTaggedFields skips a flexible header's tagged fields: a count, then a
// tag, a size and that many bytes per field.
func skipTaggedFields(b []byte) ([]byte, bool) {
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, false
	}
	b = b[n:]
	for ; count > 0; count-- {
		if _, n = binary.Uvarint(b); n <= 0 {
			return nil, false
		}
		b = b[n:]
		size, n := binary.Uvarint(b)
		if n <= 0 || size > uint64(len(b)-n) {
			return nil, false
		}
		b = b[n+int(size):]
	}
	return b, true
}

// appendBatchKeys appends the keys of every record in a partition's record
// batches. A Produce partition may carry several batches back to back.
// Compressed batches are skipped: their records are only readable after
// decompression, so Keys is partial for them. Pre-0.11 message sets (magic
// 0 and 1) stop the walk; no current client sends them.
func appendBatchKeys(keys []string, records []byte) []string {
	// Each batch starts with FirstOffset (int64) and Length (int32, the
	// bytes after it).
	for len(records) >= 12 {
		length := int32(binary.BigEndian.Uint32(records[8:]))
		if length < 0 || int(length) > len(records)-12 {
			return keys
		}
		end := 12 + int(length)
		var batch kmsg.RecordBatch
		if batch.ReadFrom(records[:end]) != nil || batch.Magic != 2 {
			return keys
		}
		records = records[end:]
		if batch.Attributes&0x07 == 0 {
			keys = appendRecordKeys(keys, &batch)
		}
	}
	return keys
}

// appendRecordKeys decodes an uncompressed batch's records, each prefixed
// by its zigzag varint length, the way kfake walks them.
func appendRecordKeys(keys []string, batch *kmsg.RecordBatch) []string {
	rs := batch.Records
	for range max(batch.NumRecords, 0) {
		length, n := binary.Varint(rs)
		if n <= 0 || length < 0 || length > int64(len(rs)-n) {
			return keys
		}
		end := n + int(length)
		var r kmsg.Record
		if r.ReadFrom(rs[:end]) != nil {
			return keys
		}
		keys = append(keys, string(r.Key))
		rs = rs[end:]
	}
	return keys
}
