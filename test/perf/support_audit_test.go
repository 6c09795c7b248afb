package perf

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// auditEvent is the part of an audit.k8s.io/v1 Event the counts need.
type auditEvent struct {
	User struct {
		Username string `json:"username"`
	} `json:"user"`
	Verb      string `json:"verb"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	StageTimestamp time.Time `json:"stageTimestamp"`
}

// writeCounts are the operator's write requests in a time window, split by kind of write.
type writeCounts struct {
	// Total counts every write request, failed ones included: each cost the API server a write.
	Total int
	// Events counts writes to events (a subset of Total), reported apart because an operator
	// may drop events without changing what it does.
	Events int
	// Failed counts writes answered with a status >= 400 (conflicts mostly).
	Failed int
	// ByKind counts "verb resource[/subresource] code".
	ByKind map[string]int
	// Reads counts the operator's get and list requests in the window (watches excluded: they
	// are long-running and counted when they end).
	Reads int
	// ReadsByKind counts "verb resource" of the reads.
	ReadsByKind map[string]int
}

// writeVerbs are the audit verbs of write requests.
var writeVerbs = map[string]bool{"create": true, "update": true, "patch": true, "delete": true, "deletecollection": true}

// countWrites reads the audit log and counts the operator user's write (and read) requests
// whose response was sent within [from, to].
func countWrites(path string, from, to time.Time) (writeCounts, error) {
	wc := writeCounts{ByKind: map[string]int{}, ReadsByKind: map[string]int{}}
	f, err := os.Open(path)
	if err != nil {
		return wc, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e auditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return wc, fmt.Errorf("audit log line: %w", err)
		}
		if e.User.Username != operatorUser || e.StageTimestamp.Before(from) || e.StageTimestamp.After(to) {
			continue
		}
		resource, code := "?", 0
		if e.ObjectRef != nil {
			resource = e.ObjectRef.Resource
			if e.ObjectRef.Subresource != "" {
				resource += "/" + e.ObjectRef.Subresource
			}
		}
		if e.ResponseStatus != nil {
			code = e.ResponseStatus.Code
		}
		if !writeVerbs[e.Verb] {
			if e.Verb == "get" || e.Verb == "list" {
				wc.Reads++
				wc.ReadsByKind[e.Verb+" "+resource]++
			}
			continue
		}
		wc.Total++
		if strings.HasPrefix(resource, "events") {
			wc.Events++
		}
		if code >= 400 {
			wc.Failed++
		}
		wc.ByKind[fmt.Sprintf("%s %s %d", e.Verb, resource, code)]++
	}
	return wc, sc.Err()
}

// breakdown renders a count by kind per session, most frequent first.
func breakdown(byKind map[string]int, sessions int) string {
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool { return byKind[kinds[i]] > byKind[kinds[j]] })
	var b strings.Builder
	for _, k := range kinds {
		fmt.Fprintf(&b, "| `%s` | %d | %.2f |\n", k, byKind[k], float64(byKind[k])/float64(sessions))
	}
	return b.String()
}
