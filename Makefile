# The README's two commands: `make demo` and `make test`. Both set up what they need first.
SHELL := /bin/bash
CARGO ?= cargo
export ORT_DYLIB_PATH ?= $(CURDIR)/.cache/lib/libonnxruntime.so.1.22.1

.PHONY: setup build demo test lint bench clean-var

setup:
	@bash scripts/setup.sh

build: setup
	$(CARGO) build --release --bin xl

demo: build
	./target/release/xl demo

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test: setup
	@bash scripts/services.sh
	$(CARGO) build --workspace --all-targets
	$(CARGO) test --workspace -- --test-threads=2

bench: setup
	$(CARGO) bench -p xl-benches

clean-var:
	rm -rf var
