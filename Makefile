# The two commands: `make run` and `make test`. Everything else is set-up they call.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
HUB    := $(VENV)/bin/hub
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PO     := $(wildcard translations/*/LC_MESSAGES/messages.po)
MO     := $(PO:.po=.mo)
DEJAVU := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf

.PHONY: run test install translations messages lint browser bench clean

run: install
	$(HUB) db upgrade
	$(HUB) seed-demo --if-empty
	@echo
	@echo "Demo accounts: secretariat@example.org, moderator@example.org, wanjiru@example.org,"
	@echo "lucia@example.org (Spanish), jean@example.org (French) ... password: biosafety-demo"
	@echo
	$(HUB) dev

test: install browser
	$(PY) -m pytest $(PYTEST_ARGS)

install: $(STAMP) $(MO)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  (echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(VENV)/bin/pybabel -q compile -d translations -l $*

# Debian's Chromium for the browser tests (never a browser download).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium chromium-driver poppler-utils >/dev/null; \
	  else echo "chromium is missing: install the Debian packages chromium and chromium-driver"; fi; }
	@# The proceedings PDF is set in DejaVu Sans; pdftoppm renders it in the tests.
	@test -f $(DEJAVU) && command -v pdftoppm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      fonts-dejavu-core poppler-utils >/dev/null; fi; }
	@test -f $(DEJAVU) || { echo "The proceedings PDF needs $(DEJAVU):"; \
	  echo "install the Debian package fonts-dejavu-core (or set HUB_PDF_FONT_DIR)."; exit 1; }

# Re-extract user-facing strings and merge them into the es/fr catalogs.
messages: install
	$(VENV)/bin/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --no-location \
	  --sort-output -o translations/messages.pot .
	$(VENV)/bin/pybabel -q update -N --ignore-obsolete -i translations/messages.pot -d translations

lint: install
	$(VENV)/bin/ruff check .

bench: install
	@for f in bench/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) instance/hub.sqlite3* .pytest_cache
