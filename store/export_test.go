package store

// SetBulkKeys changes how many keys make PostgreSQL join instead of probe,
// so that a small test takes the bulk path; it returns the undo.
func SetBulkKeys(n int) func() {
	old := bulkKeys
	bulkKeys = n
	return func() { bulkKeys = old }
}
