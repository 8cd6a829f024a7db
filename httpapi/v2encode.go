package httpapi

import (
	"strconv"
	"time"

	"github.com/cairnkv/cairn/v2store"
)

// appendV2Event appends ev as etcd v2 writes it with Go's encoding/json:
// {"action":...,"node":{...},"prevNode":{...}}, fields in struct order,
// empty ones left out, strings HTML-escaped. By hand, as the v3 answers
// (encode.go): it is the body of every v2 request.
func appendV2Event(b []byte, ev *v2store.Event) []byte {
	b = append(b, `{"action":`...)
	b = appendString(b, ev.Action)
	if ev.Node != nil {
		b = append(b, `,"node":`...)
		b = appendV2Node(b, ev.Node)
	}
	if ev.PrevNode != nil {
		b = append(b, `,"prevNode":`...)
		b = appendV2Node(b, ev.PrevNode)
	}
	return append(b, '}')
}

// appendV2Node appends n and its listed children (v2store.Node's JSON).
func appendV2Node(b []byte, n *v2store.Node) []byte {
	first := true
	b = append(b, '{')
	if n.Key != "" {
		b = appendName(b, &first, "key")
		b = appendString(b, n.Key)
	}
	if n.Value != nil {
		b = appendName(b, &first, "value")
		b = appendString(b, *n.Value)
	}
	b = appendBool(b, &first, "dir", n.Dir)
	if n.Expiration != nil {
		b = appendName(b, &first, "expiration")
		b = append(b, '"')
		b = n.Expiration.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = appendNumber(b, &first, "ttl", n.TTL)
	if len(n.Nodes) > 0 {
		b = appendName(b, &first, "nodes")
		b = append(b, '[')
		for i, c := range n.Nodes {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendV2Node(b, c)
		}
		b = append(b, ']')
	}
	b = appendNumber(b, &first, "modifiedIndex", n.ModifiedIndex)
	b = appendNumber(b, &first, "createdIndex", n.CreatedIndex)
	return append(b, '}')
}

// appendNumber appends `"name":v` (a JSON number) unless v is 0.
func appendNumber(b []byte, first *bool, name string, v int64) []byte {
	if v == 0 {
		return b
	}
	b = appendName(b, first, name)
	return strconv.AppendInt(b, v, 10)
}
