# The Python SDK (sdk/python): installed, with no network, into a venv
# that the clients tests drive (tests/clients/test_sdk_python*.py), so that
# they test the package as a user gets it rather than the source tree.
# --system-site-packages: setuptools and wheel come from the system.

PY_SDK_SRCS := $(shell find sdk/python -type f \( -name '*.py' -o -name '*.toml' -o -name '*.typed' -o -name '*.md' \) \
	-not -path '*/build/*' -not -path '*.egg-info/*' 2>/dev/null | LC_ALL=C sort)
PY_SDK_VENV := build/sdk/python-venv
PY_SDK_STAMP := $(PY_SDK_VENV)/.weft-installed

CLIENT_TEST_DEPS += $(PY_SDK_STAMP)

$(PY_SDK_VENV)/bin/python:
	$(call say,VENV,$(PY_SDK_VENV))
	@mkdir -p $(dir $(PY_SDK_VENV))
	$(Q)$(PYTHON) -m venv --system-site-packages $(PY_SDK_VENV)

# pip builds in a copy of the tree (the sources stay clean); the package
# is reinstalled whenever one of its files changes.
$(PY_SDK_STAMP): $(PY_SDK_VENV)/bin/python $(PY_SDK_SRCS)
	$(call say,PIP,sdk/python)
	$(Q)rm -rf build/sdk/python-src && mkdir -p build/sdk && cp -r sdk/python build/sdk/python-src
	$(Q)$(PY_SDK_VENV)/bin/python -m pip install --quiet --no-index --no-build-isolation --no-deps \
		--disable-pip-version-check --force-reinstall build/sdk/python-src
	$(Q)rm -rf build/sdk/python-src
	@touch $@

# `make sdk-python`: the package installed into build/sdk/python-venv.
.PHONY: sdk-python
sdk-python: $(PY_SDK_STAMP)
