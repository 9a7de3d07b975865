package runtime

import "glaux/internal/athena"

var _ athena.UIRunner = (*runner)(nil)

// UIURL is the driver's Spark UI as its ready event reported it ("" before Spark is up,
// with the UI disabled, and once the runner is gone).
func (r *runner) UIURL() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ready == nil || r.reaped {
		return ""
	}
	return r.ready.uiURL
}
