# warden developer entry points. On a fresh clone only these are needed:
#   make demo    .venv + release build of the extension + the examples' web stack, then the contacts web demo
#   make test    .venv + debug build of the extension with the `test` extra, then cargo test and pytest
#   make bench   .venv + release build + the `bench` extra, then benchmarks/suite.py (writes benchmarks/results.md)
# Needs: python3 (>= 3.10, with venv/pip), rustup's cargo, a C compiler.
#
# Why `make test` builds the extension in *debug*: `cargo test` already compiles
# every dependency in the dev profile into target/debug, and `maturin develop`
# (debug) reuses those artifacts, so only the warden crate is compiled again.
# A release build (fat LTO, one codegen unit) recompiles everything and takes
# several times longer on a 2-core machine; the tests do not need the speed.
# Switching between demo (release) and test (debug) re-links nothing: cargo
# keeps both profiles in target/, so the switch only reinstalls (a few seconds).

SHELL := bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
MATURIN := VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin
CARGO ?= cargo
CARGO_FLAGS := $(if $(filter true 1,$(CI)),--locked,)
PYTEST_FLAGS ?=

# what the native extension is built from
NATIVE_INPUTS := $(shell find src -name '*.rs' 2>/dev/null) Cargo.toml Cargo.lock pyproject.toml

.PHONY: all demo test lint fmt cargo-test pytest bench build build-release venv clean wheel wheel-test docs docs-serve fuzz

all: test

# --- environment -----------------------------------------------------------
$(VENV)/.stamp-venv:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet 'maturin>=1.9.4,<2'
	@touch $@

venv: $(VENV)/.stamp-venv

# --- native extension (maturin develop installs warden editable into .venv) --
# The debug build is the test build: `--extras test` also installs the `test`
# extra of pyproject.toml (pytest, ...), so that list lives in one place.
$(VENV)/.stamp-ext-debug: $(NATIVE_INPUTS) $(VENV)/.stamp-venv
	@rm -f $(VENV)/.stamp-ext-release
	$(MATURIN) develop --extras test
	@touch $@

$(VENV)/.stamp-ext-release: $(NATIVE_INPUTS) $(VENV)/.stamp-venv
	@rm -f $(VENV)/.stamp-ext-debug
	$(MATURIN) develop --release
	@touch $@

build: $(VENV)/.stamp-ext-debug
build-release: $(VENV)/.stamp-ext-release

# --- entry points ------------------------------------------------------------
# the examples' web stack (FastAPI, uvicorn, Flask, ...) for the demo only
$(VENV)/.stamp-examples: examples/requirements.txt $(VENV)/.stamp-venv
	$(PIP) install --quiet -r examples/requirements.txt
	@touch $@

demo: $(VENV)/.stamp-ext-release $(VENV)/.stamp-examples
	$(PY) examples/contacts/web_demo.py

# Tests needing the shared test data (WARDEN_SHARED, default ../shared: see CONTRIBUTING.md) return
# early without it; Rust has no runtime skip, so each logs itself and the count is printed here.
cargo-test:
	@log=$$(mktemp); status=0; \
	WARDEN_SKIP_LOG=$$log $(CARGO) test $(CARGO_FLAGS) || status=$$?; \
	sort $$log | awk -F'\t' '{ n[$$1]++; t[$$1] = t[$$1] "\n    " $$2 } \
		END { for (r in n) printf "cargo test: %d tests skipped (returned early): %s%s\n", n[r], r, t[r] }'; \
	rm -f $$log; exit $$status

pytest: $(VENV)/.stamp-ext-debug
	$(PY) -m pytest $(PYTEST_FLAGS)

# rustfmt and clippy (warnings are errors) on the core with and without the bindings, then ruff on
# the Python; ruff comes with the `test` extra. `make fmt` rewrites what `lint` would report.
lint: $(VENV)/.stamp-ext-debug
	$(CARGO) fmt --check
	$(CARGO) clippy $(CARGO_FLAGS) --all-targets -- -D warnings
	$(CARGO) clippy $(CARGO_FLAGS) --features python -- -D warnings
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(VENV)/.stamp-ext-debug
	$(CARGO) fmt
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# lint and both suites run even when one fails; the exit status reports any failure
test:
	@status=0; $(MAKE) --no-print-directory lint || status=1; \
	$(MAKE) --no-print-directory cargo-test || status=1; \
	$(MAKE) --no-print-directory pytest || status=1; exit $$status

# the benchmark peers (the `bench` extra of pyproject.toml) go into .venv for `make bench` only;
# oso with --no-deps (its cffi~=1.15 pin would downgrade cryptography: see benchmarks/requirements.py)
$(VENV)/.stamp-bench: pyproject.toml benchmarks/requirements.py $(VENV)/.stamp-venv
	$(PY) benchmarks/requirements.py --except oso > $(VENV)/bench-requirements.txt
	$(PIP) install --quiet -r $(VENV)/bench-requirements.txt
	$(PY) benchmarks/requirements.py --only oso > $(VENV)/bench-requirements-nodeps.txt
	$(PIP) install --quiet --no-deps -r $(VENV)/bench-requirements-nodeps.txt
	@touch $@

# BENCH_ARGS=--quick for a smoke run; sizes are options of benchmarks/suite.py (--help)
BENCH_ARGS ?=
bench: $(VENV)/.stamp-ext-release $(VENV)/.stamp-bench
	$(PY) benchmarks/suite.py $(BENCH_ARGS)

# --- distribution ------------------------------------------------------------
# `make wheel`: the release wheel and the sdist of the `warden-authz` distribution, into dist/. One abi3
# wheel serves CPython >= 3.10. `--zig` links with zig (the `ziglang` package from PyPI) against glibc
# 2.17, so the wheel is manylinux2014 and installs on any Linux distribution of the last decade;
# maturin's own auditwheel step checks the symbols and refuses a wheel that does not qualify. No
# containers. The build has its own target directory: zig as the C compiler and linker would
# otherwise rebuild the release artifacts of `make demo` each time one follows the other.
WHEEL_COMPATIBILITY ?= manylinux2014
$(VENV)/.stamp-zig: $(VENV)/.stamp-venv
	$(PIP) install --quiet 'ziglang>=0.13,<0.18'
	@touch $@

wheel: $(VENV)/.stamp-zig
	rm -rf dist
	PATH="$(abspath $(VENV))/bin:$$PATH" CARGO_TARGET_DIR=target/wheel $(MATURIN) build --release --zig --compatibility $(WHEEL_COMPATIBILITY) --out dist $(CARGO_FLAGS)
	$(MATURIN) sdist --out dist
	@ls -l dist

# --- documentation -------------------------------------------------------------
# `make docs`: the site (mkdocs.yml, docs/) built strictly into site/; the API reference is read from the
# sources and python/warden/_core.pyi, so no build of the extension is needed. `make docs-serve` previews it.
$(VENV)/.stamp-docs: pyproject.toml $(VENV)/.stamp-venv
	$(PIP) install --quiet 'mkdocs>=1.6' 'mkdocs-material>=9.5' 'mkdocstrings[python]>=0.26'
	@touch $@

docs: $(VENV)/.stamp-docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

docs-serve: $(VENV)/.stamp-docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve

# the wheel installed into a fresh venv with no Rust toolchain on its PATH (also part of `make test`):
# tests/test_wheel.py builds it from the current sources in the dev profile, reusing `make build`'s artifacts
wheel-test: $(VENV)/.stamp-ext-debug
	$(PY) -m pytest tests/test_wheel.py $(PYTEST_FLAGS)

clean:
	rm -rf $(VENV) python/warden/_core*.so dist site
	rm -rf $(VENV) python/warden/_core*.so

# Each cargo-fuzz target (fuzz/fuzz_targets) for FUZZ_SECONDS, from the committed seeds in fuzz/corpus/<target>;
# what it adds goes to fuzz/work/<target>, a crash or hang to fuzz/artifacts/<target> (both ignored by git).
# cargo-fuzz is installed into .cargo-tools/ on first use; its nightly flags work on the stable
# toolchain with RUSTC_BOOTSTRAP=1. The first build takes a while (every dependency, instrumented).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= policy cel token rego
FUZZ_FLAGS ?= -max_len=4096 -timeout=10 -rss_limit_mb=2048
CARGO_FUZZ := .cargo-tools/bin/cargo-fuzz
$(CARGO_FUZZ):
	$(CARGO) install cargo-fuzz --locked --version 0.13.2 --root .cargo-tools

fuzz: $(CARGO_FUZZ)
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p fuzz/work/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		PATH="$(abspath .cargo-tools/bin):$$PATH" RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -O $$t fuzz/work/$$t fuzz/corpus/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) $(FUZZ_FLAGS) -print_final_stats=1 || exit 1; \
	done
