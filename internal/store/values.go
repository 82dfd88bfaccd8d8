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
