package store

import (
	"strconv"
	"strings"
	"sync"
)

// placeholderLists caches the placeholder lists of multi-row statements.
var placeholderLists sync.Map

// valuesList returns the placeholders of a multi-row VALUES clause: "($1, $2), ($3, $4)" for 2 rows of 2
// columns.
func valuesList(rows, cols int) string {
	key := [3]int{0, rows, cols}
	if v, ok := placeholderLists.Load(key); ok {
		return v.(string)
	}
	var b strings.Builder
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		b.WriteString(numbered(i*cols+1, cols))
		b.WriteByte(')')
	}
	s := b.String()
	placeholderLists.Store(key, s)
	return s
}

// PlanPerCall begins a statement whose best plan depends on its values, such as a lookup by a list of keys:
// a driver that keeps the plans of its prepared statements (PostgreSQL) plans such a statement anew at each
// call. A plan kept from the first calls on a new, empty table would otherwise go on scanning the whole table
// for every lookup once it has grown, until the table's statistics are next updated. To SQL it is a comment.
const PlanPerCall = "/* plan per call */ "

// inStatement returns head, an IN list of n placeholders numbered from first, and tail, as a statement planned
// per call (PlanPerCall).
func inStatement(head string, first, n int, tail string) string {
	return PlanPerCall + head + inList(first, n) + tail
}

// inList returns the placeholders of an IN list of n values numbered from first: "$2, $3, $4".
func inList(first, n int) string {
	key := [3]int{1, first, n}
	if v, ok := placeholderLists.Load(key); ok {
		return v.(string)
	}
	s := numbered(first, n)
	placeholderLists.Store(key, s)
	return s
}

// numbered returns n placeholders from $first, separated by commas.
func numbered(first, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(first+i))
	}
	return b.String()
}
