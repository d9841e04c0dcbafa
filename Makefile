# The README's two commands: `go run ./server` runs the lab; `make test`
# installs what the tests need, checks formatting, vet, that go.mod is tidy,
# staticcheck (pinned in go.mod's tool directive, so `go tool` builds it) and
# that templ's generated files are fresh, then runs every test with the race
# detector.
.PHONY: test deps check generate bench run

test: deps check
	go test -race -count=1 ./...

# What the tests need beyond Go, installed by the project's own scripts
# (each is idempotent and quiet once done): headless Chromium and CJK fonts,
# kafka-python in a venv, kcat and confluent-kafka.
deps:
	@.ci/browser-deps >/dev/null
	@.ci/python-deps >/dev/null
	@.ci/fidelity-deps >/dev/null
	@.ci/java-deps >/dev/null

check:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: run gofmt -w on the files above"; exit 1; }
	go vet ./...
	@go mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy and commit the result"; exit 1; }
	go tool staticcheck ./...
	go tool templ generate
	@git diff --exit-code -- '*_templ.go' || { echo "templ: generated files were stale; commit them"; exit 1; }

generate:
	go tool templ generate

# Every number of the performance budget, measured on this machine:
# throughput against the bare pipeline of the same library (median of 20
# paired runs), exactly-once cost by transaction size, a million-deposit
# run's peak heap, lesson page time, start-up, live fan-out to 200 viewers,
# a class of 300 following a lesson beside three full-speed runs,
# and in Chromium: the lesson page's weight, a 200-deposit run's script time
# per animation frame, a 100,000-deposit run's longest task.
bench:
	go test -run XXX -bench 'BenchmarkRun$$' -benchtime 20x ./lessons/pipeline/
	go test -run XXX -bench BenchmarkTxnSize -benchtime 2x ./lessons/pipeline/
	go test -run XXX -bench BenchmarkMillionDeposits -benchtime 1x ./lessons/pipeline/
	go test -run XXX -bench 'BenchmarkDedup$$' -benchtime 10x ./lessons/pipeline/
	go test -run XXX -bench 'BenchmarkDedupStore|BenchmarkDedupRestore' -benchtime 5x ./lessons/pipeline/
	go test -run XXX -bench 'BenchmarkLessonPage|BenchmarkStartup' ./server/
	go test -run XXX -bench BenchmarkFanOut -benchtime 4x ./server/
	go test -run XXX -bench BenchmarkClass -benchtime 1x -timeout 20m ./server/
	go test -count=1 -run 'TestBrowserBudget$$' -v ./server/ -budget

run:
	go run ./server
