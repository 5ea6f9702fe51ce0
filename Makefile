# ga-listener: the two set-up commands are `make up` (demo against the local emulator) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STATE_DIR ?= .ga-emulator
EMULATOR_PORT ?= 8787
# The emulator's demo key pair (not a real credential; see README "The emulator").
DEMO_KEY_ID := ga-demo-key-id
DEMO_KEY_SECRET := ga-demo-key-secret
# The accelerator the demo stacks create their listeners on (the project's and examples/multi_listener's dev
# stacks, on ports that never overlap). Tests start the emulator with these same flags (`make -s emulator-flags`).
EMULATOR_FLAGS := --credential $(DEMO_KEY_ID):$(DEMO_KEY_SECRET) --accelerator ga-demo

.PHONY: up preview destroy up-multi cli test soak lint bench emulator emulator-stop emulator-flags clean

$(VENV)/.installed: pyproject.toml requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# The Pulumi CLI the targets run: the one on PATH, else the pinned version (tools/pulumi-cli/go.mod) from the
# per-user cache, installed there or built from the Go module proxy when missing (scripts/pulumi_cli.py).
PULUMI_CLI = $(PY) scripts/pulumi_cli.py --for "make $@"
# The file backend of the demo stacks (git-ignored).
BACKEND_DIR ?= $(CURDIR)/.pulumi-state

# $(call pulumi-dev,PROJECT_DIR,COMMAND): run `pulumi COMMAND --stack dev` in that project against the emulator,
# state in $(BACKEND_DIR). The stack files commit the passphrase's encryptionsalt, so stack init writes nothing
# into the tree.
define pulumi-dev
	@pulumi=$$($(PULUMI_CLI)) || exit 1; \
	$(MAKE) --no-print-directory emulator || exit 1; \
	mkdir -p "$(BACKEND_DIR)"; \
	export PULUMI_BACKEND_URL="file://$(BACKEND_DIR)" PULUMI_CONFIG_PASSPHRASE=demo \
	  PULUMI_SKIP_UPDATE_CHECK=true \
	  ALICLOUD_ACCESS_KEY=$(DEMO_KEY_ID) ALICLOUD_SECRET_KEY=$(DEMO_KEY_SECRET) ALICLOUD_SECURITY_TOKEN= \
	  ALIBABA_CLOUD_ACCESS_KEY_ID=$(DEMO_KEY_ID) ALIBABA_CLOUD_ACCESS_KEY_SECRET=$(DEMO_KEY_SECRET) ALIBABA_CLOUD_SECURITY_TOKEN= \
	  ALIBABACLOUD_ACCESS_KEY_ID=$(DEMO_KEY_ID) ALIBABACLOUD_ACCESS_KEY_SECRET=$(DEMO_KEY_SECRET) ALIBABACLOUD_SECURITY_TOKEN= \
	  PATH="$$(dirname "$$pulumi"):$(CURDIR)/$(VENV)/bin:$$PATH"; cd $(1) && \
	  "$$pulumi" stack select dev --create --non-interactive && "$$pulumi" $(2) --stack dev --non-interactive
	@echo "The emulator is still running (pid $$(cat $(STATE_DIR)/pid)); stop it with: make emulator-stop"
endef

up: $(VENV)/.installed
	$(call pulumi-dev,$(CURDIR),up --yes)

# `pulumi preview` of the dev stack: what `make up` would change.
preview: $(VENV)/.installed
	$(call pulumi-dev,$(CURDIR),preview)

# `pulumi destroy` of the dev stack: deletes the listener `make up` created.
destroy: $(VENV)/.installed
	$(call pulumi-dev,$(CURDIR),destroy --yes)

# The second example: several listeners of one accelerator from the dev stack's list.
up-multi: $(VENV)/.installed
	$(call pulumi-dev,$(CURDIR)/examples/multi_listener,up --yes)

# Start the emulator in the background (idempotent) and wait for its ready line.
emulator: $(VENV)/.installed
	@mkdir -p $(STATE_DIR)
	@if [ -f $(STATE_DIR)/pid ] && kill -0 $$(cat $(STATE_DIR)/pid) 2>/dev/null; then \
	  echo "emulator already running (pid $$(cat $(STATE_DIR)/pid))"; \
	else \
	  $(PY) -m ga_emulator --port $(EMULATOR_PORT) --state $(STATE_DIR)/state.json $(EMULATOR_FLAGS) \
	    >$(STATE_DIR)/ready.txt 2>$(STATE_DIR)/emulator.log & echo $$! >$(STATE_DIR)/pid; \
	  for i in $$(seq 100); do grep -q listening $(STATE_DIR)/ready.txt 2>/dev/null && break; sleep 0.1; done; \
	  grep listening $(STATE_DIR)/ready.txt || { echo "emulator did not start; see $(STATE_DIR)/emulator.log" >&2; exit 1; }; \
	fi

emulator-flags:
	@echo $(EMULATOR_FLAGS)

emulator-stop:
	@if [ -f $(STATE_DIR)/pid ]; then kill $$(cat $(STATE_DIR)/pid) 2>/dev/null || true; rm -f $(STATE_DIR)/pid; echo "emulator stopped"; fi

# The pinned Pulumi CLI (found, installed or built); prints its path.
cli: $(VENV)/.installed
	@$(PULUMI_CLI) --exact

# Every test, the real-CLI suite (tests/cli) included: without the pinned CLI this fails, it never skips.
test: $(VENV)/.installed
	@$(PULUMI_CLI) --exact >/dev/null
	$(PY) -m pytest

# The randomized lifecycle schedule at full length (make test runs 2 seeds x 20 steps per mode).
soak: $(VENV)/.installed
	SOAK_SEEDS=8 SOAK_STEPS=40 $(PY) -m pytest -q -s tests/reliability/test_schedule.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check provider tests bench scripts __main__.py examples
	$(VENV)/bin/mypy

bench: $(VENV)/.installed
	$(PY) -m bench

clean: emulator-stop
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
