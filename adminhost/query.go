package adminhost

import (
	"fmt"
	"net/url"
	"strconv"
)

// GoAdmin reads a list's paging and order from the query and trusts them:
// its paginator divides by __pageSize (0 or a non-number panics into a
// 500), and its links repeat __sort and __sort_type. The guard checks them
// first and answers 400 with the reason.

// Paging and order parameters of GoAdmin's lists, and their bounds.
const (
	paramPage     = "__page"
	paramPageSize = "__pageSize"
	paramSort     = "__sort"
	paramSortType = "__sort_type"

	maxPage     = 1_000_000
	maxPageSize = 100 // GoAdmin's largest page-size choice
)

// sortFields are the fields a list may be ordered by: only the primary
// key, the one GoAdmin puts in its own links (no list has sortable
// columns; the services order every list themselves).
var sortFields = map[string]bool{"id": true}

// checkListQuery returns why q's paging or order parameters are wrong, or
// "" when they are fine (or absent).
func checkListQuery(q url.Values) string {
	if msg := checkInt(q, paramPage, "The page number", maxPage); msg != "" {
		return msg
	}
	if msg := checkInt(q, paramPageSize, "The page size", maxPageSize); msg != "" {
		return msg
	}
	if vs, ok := q[paramSort]; ok && (len(vs) != 1 || !sortFields[vs[0]]) {
		return fmt.Sprintf("The list cannot be ordered that way (%s must be id).", paramSort)
	}
	if vs, ok := q[paramSortType]; ok && (len(vs) != 1 || (vs[0] != "asc" && vs[0] != "desc")) {
		return fmt.Sprintf("The order must be asc or desc (%s).", paramSortType)
	}
	return ""
}

// checkInt checks that q has at most one value of key, a whole number
// from 1 to most.
func checkInt(q url.Values, key, what string, most int) string {
	vs, ok := q[key]
	if !ok {
		return ""
	}
	if len(vs) == 1 {
		if n, err := strconv.Atoi(vs[0]); err == nil && n >= 1 && n <= most && strconv.Itoa(n) == vs[0] {
			return ""
		}
	}
	return fmt.Sprintf("%s (%s) must be a whole number from 1 to %d.", what, key, most)
}
