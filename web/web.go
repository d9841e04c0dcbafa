// Package web holds the lab's static assets (CSS, JS modules), embedded in
// the binary and served under content-hashed URLs so that browsers may
// cache them forever: a changed file gets a new URL.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/tdewolff/minify/v2"
	"github.com/tdewolff/minify/v2/css"
	"github.com/tdewolff/minify/v2/js"
)

//go:embed static
var files embed.FS

// Prefix is where assets are served: /static/<hash>/<name>.
const Prefix = "/static/"

var (
	static  fs.FS
	hashOf  = map[string]string{} // name → first 12 hex digits of its SHA-256
	content = map[string][]byte{}
)

func init() {
	static, _ = fs.Sub(files, "static")
	_ = fs.WalkDir(static, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, name)
		if err != nil {
			return err
		}
		b = minified(name, b)
		sum := sha256.Sum256(b)
		hashOf[name] = hex.EncodeToString(sum[:6])
		content[name] = b
		return nil
	})
}

// minifier serves the modules and style sheets without their comments and
// spaces: the sources stay written for reading (a third of picture.js is
// comments on what it draws and why), and a lesson page with what its runs
// load stays within its budget (TestAssetsCacheForever). A file the
// minifier cannot read is served as written.
var minifier = func() *minify.M {
	m := minify.New()
	m.Add("text/css", &css.Minifier{})
	// Names stay: a module's exports are imported by name, and a browser's
	// stack trace should still name the function.
	m.Add("text/javascript", &js.Minifier{KeepVarNames: true})
	return m
}()

func minified(name string, b []byte) []byte {
	var mediatype string
	switch path.Ext(name) {
	case ".js":
		mediatype = "text/javascript"
	case ".css":
		mediatype = "text/css"
	default:
		return b
	}
	out, err := minifier.Bytes(mediatype, b)
	if err != nil {
		return b
	}
	return out
}

// URL returns the content-hashed URL of asset name ("css/lab.css"). It
// panics on a name that does not exist: a typo in a view must fail tests,
// not ship a broken page.
func URL(name string) string {
	h, ok := hashOf[name]
	if !ok {
		panic("web: no asset " + name)
	}
	return Prefix + h + "/" + name
}

// Handler serves assets under Prefix. A request whose hash is current is
// cacheable for a year; an old hash still gets the current file, uncached.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest := strings.TrimPrefix(r.URL.Path, Prefix)
		hash, name, ok := strings.Cut(rest, "/")
		b, found := content[name]
		if !ok || !found {
			http.NotFound(w, r)
			return
		}
		if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		if hash == hashOf[name] {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		_, _ = w.Write(b)
	})
}
