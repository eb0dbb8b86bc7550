# Two commands do everything on a fresh machine with Python 3.11 and make:
#   make demo   set up .venv and run the end-to-end quickstart
#   make test   set up .venv and run the test suite
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
STAMP  := $(VENV)/.oshie-installed

.PHONY: setup demo test lint bench-deps browser system-deps clean

setup: $(STAMP)

# torch first, pinned, so nothing later can pull a CUDA build; then everything else
# under constraints.txt. The stamp makes a second run a no-op.
$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -c constraints.txt -e ".[all,dev]"
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/oshie quickstart --out runs/quickstart

# System parts the tests start themselves: headless Chromium (HTML reports, studio browser
# tests through Playwright), a CJK font for Japanese plot labels, and PostgreSQL (studio on a
# team database; the test session runs initdb/pg_ctl in a temp dir). All come from Debian when
# missing (as root); otherwise the tests that need them are skipped with a reason.
SYSTEM_PKGS := chromium fonts-noto-cjk postgresql
system-deps:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -q "Noto Sans CJK" && \
	   ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || \
	  { if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PKGS) >/dev/null) \
	      || echo "warning: could not install $(SYSTEM_PKGS); tests that need them will be skipped"; \
	    else echo "warning: some of $(SYSTEM_PKGS) are missing; tests that need them will be skipped"; fi; }
browser: system-deps

test: setup system-deps
	$(VENV)/bin/ruff check src tests bench
	$(PY) -m pytest -q

bench-deps: setup
	$(PIP) install -q -c constraints.txt -e ".[bench]"

lint: setup
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench

clean:
	rm -rf $(VENV) runs .pytest_cache
