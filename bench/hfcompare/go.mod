module github.com/govene/govene/bench/hfcompare

go 1.26.5

require (
	github.com/gomlx/compute v0.1.2
	github.com/gomlx/go-huggingface v0.4.0
	github.com/govene/govene v0.0.0
)

replace github.com/govene/govene => ../..
