package compose

// hinted is an error that knows what the person reading it can do about
// it. Error says only what went wrong; the hint stays apart, so each
// output shows it in its place: the "hint" of a JSON failed event, a hint
// line in text. The pipeline's runner finds it through its Hint method
// (steps cannot be imported here).
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }

// Hint says what to do about the error.
func (h *hinted) Hint() string { return h.hint }

// withHint attaches advice to err.
func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hinted{err: err, hint: hint}
}
