// Package web holds the notebook page's front end, built by build.sh into dist/ (committed,
// so that glaux needs no Node.js to build or run) and embedded into the binary.
package web

import (
	"embed"
	"io/fs"
)

//go:embed dist
var dist embed.FS

// Dist is the built front end: app.js, app.css and their licenses.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is embedded at build time
	}
	return sub
}
