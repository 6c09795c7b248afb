package main

import "embed"

// webFiles is the page at /: index.html, the flow (app.js), the SDK seam (sdk.js) and styles.
//
//go:embed web
var webFiles embed.FS
