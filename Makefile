# govene: the two set-up commands are `make demo` and `make test`; both work on
# a fresh machine with Go 1.26 (they fetch Go modules themselves).

export GOEXPERIMENT := simd
export GOFLAGS := -mod=mod
GO ?= go

TESTPY := $(CURDIR)/.venv-test
TESTPY_STAMP := $(TESTPY)/.stamp-$(shell sha256sum oracle/requirements-test.txt 2>/dev/null | cut -c1-12)

.PHONY: demo test go-test beam-test vet fmt-check fixtures bench bench-scale bench-go fuzz fuzz-short race pyenv pjrt-cpu

# The main job on the embedded defaults: the pure-Go backend, the shipped model.
demo:
	GOMLX_BACKEND=go $(GO) run ./cmd/govene demo

# Everything on the pure-Go backend (the multi-device tests on the XLA CPU
# plugin's 4 host devices among them: GOVENE_REQUIRE_XLA makes a missing
# plugin a failure, not a skip), then the model, intervention and
# backend tests again on XLA's CPU plugin (installed from PyPI), then the
# notebooks: executed headlessly with the GoNB kernel and checked, and one run
# in JupyterLab in headless Chromium (notebooks/notebooks.mk).
test: go-test notebooks-test

go-test: fixtures pyenv pjrt-cpu vet fmt-check
	GOMLX_BACKEND=go GOVENE_REQUIRE_XLA=1 SAFETENSORS_PYTHON=$(TESTPY)/bin/python GOVENE_HUB_PYTHON=$(TESTPY)/bin/python \
		$(GO) test -count=1 -timeout 60m ./...
	GOMLX_BACKEND=xla:$$(bash scripts/pjrt-cpu/install.sh) GOMLX_NO_AUTO_INSTALL=1 \
		$(GO) test -count=1 -timeout 30m ./backend/ ./gpt2/ ./pv/
	$(MAKE) beam-test
	$(MAKE) race
	$(MAKE) fuzz-short

# The Beam pipelines (the nested module beam/, kept apart so that Beam's
# dependencies stay out of the library's go.mod): vet, then the Prism
# runner's output against job.Run's (about 2 minutes cold, 10 s warm).
beam-test:
	cd beam && $(GO) vet ./... && GOMLX_BACKEND=go $(GO) test -count=1 -timeout 10m ./...

# XLA's PJRT CPU plugin (from the lammps-jax-pjrt-cpu wheel), which govene
# uses on the CPU when present: about 2.4x (1x16) to 4x (8x64) faster than
# the pure-Go backend here.
pjrt-cpu:
	bash scripts/pjrt-cpu/install.sh

# The Python side of the interoperability tests (safetensors, HF cache).
pyenv: $(TESTPY_STAMP)
$(TESTPY_STAMP): oracle/requirements-test.txt
	rm -rf $(TESTPY)
	python3 -m venv $(TESTPY)
	$(TESTPY)/bin/pip install -q -r oracle/requirements-test.txt
	touch $@

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# Regenerates the pyvene/transformers fixtures only when the oracle script or
# its pinned requirements changed (installs the oracle's Python env then).
fixtures:
	bash oracle/check_fixtures.sh

# govene against pyvene on the same machine in the same run (installs the
# oracle's Python env, makes a random GPT-2-small checkpoint); BENCH_QUICK=1
# for a short run. `make bench-go` runs only the Go micro-benchmarks.
bench:
	bash bench/run.sh
	bash bench/scale.sh

# The scale figures alone: a dataset job on 1 and 4 host devices and on
# Beam's Prism runner (bench/scale.sh says more).
bench-scale:
	bash bench/scale.sh

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./gpt2/

# Fuzzers over everything a user or a file feeds govene: config.json, the
# safetensors header, tokenizer files, pyvene unit_locations, sweep, train and
# intervention configs. `make fuzz` runs each for FUZZTIME (60 s). make test
# runs each for a fixed number of inputs (fuzz-short, about 5 s each here):
# a count, not a time, because a time limit that expires while the fuzzer is
# busy with an input makes `go test -fuzz` fail with "context deadline
# exceeded", a failure of the tool, not of the code. Inputs that failed stay
# in testdata/fuzz. Each entry is package:target:inputs-for-fuzz-short.
FUZZTIME ?= 60s
FUZZ_TARGETS := \
	./safetensors/:FuzzParse:100000 \
	./gpt2/:FuzzParseConfig:20000 \
	./bpe/:FuzzTokenizerJSON:50000 \
	./bpe/:FuzzVocabMerges:40000 \
	./pv/:FuzzPyveneLocations:30000 \
	./sweep/:FuzzSweepConfig:20000 \
	./session/:FuzzDecodeRequest:20000 \
	./session/service/:FuzzDecodeEngineRequest:20000 \
	./pv/:FuzzTrainConfig:30000 \
	./pv/:FuzzConfigJSON:30000

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; fn=$${rest%%:*}; n=$${rest#*:}; \
		echo "fuzz $$fn ($$pkg) for $(FUZZTIME)"; \
		GOMLX_BACKEND=go $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -parallel 1 $$pkg; \
	done

fuzz-short:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; fn=$${rest%%:*}; n=$${rest#*:}; \
		echo "fuzz $$fn ($$pkg) for $$n inputs"; \
		GOMLX_BACKEND=go $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $${n}x -parallel 1 $$pkg; \
	done

# The race detector over the concurrency tests: Forward, sweeps and generation
# from several goroutines on one model (pure-Go backend), Forward split over
# the XLA CPU plugin's 4 devices, and a job's shards run at once. -race turns
# on checkptr, which GoMLX's SIMD matmul kernels trip (they index packed
# buffers with unsafe pointer arithmetic that checkptr cannot follow): it is
# turned off for GoMLX's packages only, so govene's own code keeps it.
race:
	GOMLX_BACKEND=go $(GO) test -count=1 -race -gcflags='github.com/gomlx/...=-d=checkptr=0' \
		-timeout 20m -run 'Concurrent' ./pv/ ./sweep/ ./engine/ ./job/

include notebooks/notebooks.mk
