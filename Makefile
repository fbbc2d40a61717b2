# tt: the two commands of the README, and the pieces they are made of.
PYTHON ?= python3

.PHONY: install demo test lint lit pytest

install:
	$(PYTHON) -m pip install --quiet torch==2.13.0
	$(PYTHON) -m pip install --quiet -e '.[dev]'

demo: install
	$(PYTHON) scripts/demo.py

lint:
	ruff check tt ttdialect passes lowering tests scripts bench

lit:
	lit -v tests/filecheck

pytest:
	$(PYTHON) -m pytest -q tests

test: lint lit pytest
