package sqlite

import (
	"strconv"
	"sync"
)

// rebound is a query with its $N placeholders replaced by ?, and the argument each ? takes.
type rebound struct {
	q     string
	order []int // order[k] is the index into the original args of the k-th ?
	// inOrder: the k-th ? takes the k-th argument ($1, $2, ... once each, in order), so args need no copy.
	inOrder bool
}

// rebinder rewrites the store's $N placeholders to plain ? for SQLite. The driver binds a named or numbered
// parameter by looking its name up in a list of all the statement's parameters, which is quadratic in their
// number (a multi-row insert has hundreds); plain ? parameters bind by position. Rewrites are cached per query
// text. The store's SQL has no $ inside string literals, which this scanner relies on.
type rebinder struct {
	mu sync.Mutex
	m  map[string]rebound
}

func newRebinder() *rebinder { return &rebinder{m: map[string]rebound{}} }

func (r *rebinder) rebind(q string, args []any) (string, []any) {
	r.mu.Lock()
	rb, ok := r.m[q]
	r.mu.Unlock()
	if !ok {
		rb = parsePlaceholders(q)
		r.mu.Lock()
		if len(r.m) > 4096 {
			clear(r.m)
		}
		r.m[q] = rb
		r.mu.Unlock()
	}
	if rb.order == nil {
		return q, args
	}
	if rb.inOrder && len(args) == len(rb.order) {
		return rb.q, args
	}
	out := make([]any, len(rb.order))
	for k, i := range rb.order {
		if i < len(args) {
			out[k] = args[i]
		}
	}
	return rb.q, out
}

func parsePlaceholders(q string) rebound {
	var b []byte
	var order []int
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c != '$' || i+1 >= len(q) || q[i+1] < '0' || q[i+1] > '9' {
			b = append(b, c)
			continue
		}
		j := i + 1
		for j < len(q) && q[j] >= '0' && q[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(q[i+1 : j])
		order = append(order, n-1)
		b = append(b, '?')
		i = j - 1
	}
	if order == nil {
		return rebound{q: q}
	}
	inOrder := true
	for k, i := range order {
		inOrder = inOrder && i == k
	}
	return rebound{q: string(b), order: order, inOrder: inOrder}
}
