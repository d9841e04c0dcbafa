# The README's two commands: `go run ./server` runs the lab; `make test`
# runs every test (race detector on) after checking formatting, vet and
# that templ's generated files are fresh.
.PHONY: test check generate bench run

test: check
	go test -race -count=1 ./...

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: run gofmt -w on the files above"; exit 1; }
	go vet ./...
	go tool templ generate
	@git diff --exit-code -- '*_templ.go' || { echo "templ: generated files were stale; commit them"; exit 1; }

generate:
	go tool templ generate

# Throughput of each guarantee against the bare pipeline of its library.
bench:
	go test -run XXX -bench BenchmarkRun -benchtime 3x ./lessons/pipeline/

run:
	go run ./server
