package athena

// liveSession is a session whose runner is alive in this process.
type liveSession struct {
	runner Runner
}
