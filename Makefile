# tt: the two commands of the README, and the pieces they are made of.
PYTHON ?= python3

.PHONY: install demo test lint lit pytest check-python check-system

# Checked before anything is downloaded: the Python version, and for the demo the Debian
# toolchain (installed when running as root, else the exact command is printed).
check-python:
	@$(PYTHON) scripts/check_system.py

check-system:
	@$(PYTHON) scripts/check_system.py --toolchain

install: check-python
	$(PYTHON) -m pip install --quiet torch==2.13.0
	$(PYTHON) -m pip install --quiet -e '.[dev]'

demo: check-system install
	$(PYTHON) scripts/demo.py

lint:
	ruff check tt ttdialect passes lowering tests scripts bench

lit:
	lit -v tests/filecheck

pytest:
	$(PYTHON) -m pytest -q tests

test: lint lit pytest
