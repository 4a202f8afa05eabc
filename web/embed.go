// Package web embeds the built console (web/dist, produced by `npm ci && npm run build` in this
// directory and never committed). A binary built before the console has only the placeholder and
// serves a page that says how to build it.
package web

import (
	"embed"
	"io/fs"
)

//go:embed all:dist
var dist embed.FS

// Dist returns the built console's files, rooted at dist/.
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err)
	}
	return sub
}

// Built reports whether the console was built into the binary.
func Built() bool {
	_, err := fs.Stat(Dist(), "index.html")
	return err == nil
}
