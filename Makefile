# The two commands of the README: `make test` and `make book`. Both create .venv if needed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# chapter notebooks: the MyST-markdown files under book/ that carry a jupytext kernelspec
NOTEBOOKS := $(shell grep -rl --include='*.md' '^kernelspec:' book 2>/dev/null | sort)
NBDIR := _build/nbval

.PHONY: test unit notebooks book clean venv reproduce results paper bench-load student lab nbgrader-check

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	@$(BIN)/python -c 'import importlib.metadata as m, sys; sys.exit(m.version("torch").split("+")[0] != "2.13.0")' \
	  || { echo "torch is not 2.13.0: something replaced it"; exit 1; }
	touch $(STAMP)

# jupytext sources -> .ipynb for nbval, in a build folder (never committed)
$(NBDIR): $(STAMP) $(NOTEBOOKS)
	rm -rf $(NBDIR)
	@for nb in $(NOTEBOOKS); do \
	  out=$(NBDIR)/$${nb%.md}.ipynb; mkdir -p $$(dirname $$out); \
	  $(BIN)/jupytext --quiet --to ipynb -o $$out $$nb || exit 1; \
	done
	touch $(NBDIR)

test: $(STAMP) $(NBDIR)
	MPLBACKEND=Agg $(BIN)/pytest tests $(NBDIR) --nbval-lax --nbval-cell-timeout=600 --durations=15 -p no:cacheprovider

unit: $(STAMP)
	$(BIN)/pytest tests -q -p no:cacheprovider

notebooks: $(STAMP) $(NBDIR)
	MPLBACKEND=Agg $(BIN)/pytest $(NBDIR) --nbval-lax --nbval-cell-timeout=600 -p no:cacheprovider

book: $(STAMP)
	$(BIN)/python tools/check_bib.py --strict
	$(BIN)/jupyter-book build . --builder html
	@echo "The book is at $(CURDIR)/_build/html/index.html"

# Results files of one chapter (CH=diffpool; FILE=name.json narrows to one file).
CH_RESULTS = $(sort $(wildcard book/[0-9][0-9]_$(CH)/results/$(or $(FILE),*.json)))

# Rerun each recorded command into a temporary folder and compare the summaries (never writes book/).
reproduce: $(STAMP)
	@test -n "$(CH)" || { echo "usage: make reproduce CH=<chapter module, e.g. diffpool> [FILE=name.json]"; exit 2; }
	@test -n "$(CH_RESULTS)" || { echo "no results files match book/NN_$(CH)/results/$(or $(FILE),*.json)"; exit 2; }
	$(BIN)/python -m companion.reproduce $(CH_RESULTS)

# Regenerate the book's results files of one chapter: each recorded command rerun, its output
# replacing the file under the file's own name. REPEAT=2 runs each command twice and records the
# largest difference between the runs as the file's reproduce_tolerance (measured, not typed).
results: $(STAMP)
	@test -n "$(CH)" || { echo "usage: make results CH=<chapter module, e.g. diffpool> [FILE=name.json] [REPEAT=2]"; exit 2; }
	@test -n "$(CH_RESULTS)" || { echo "no results files match book/NN_$(CH)/results/$(or $(FILE),*.json)"; exit 2; }
	$(BIN)/python -m companion.reproduce --publish $(if $(REPEAT),--repeat $(REPEAT)) $(CH_RESULTS)

# The paper's own setting of one chapter (CH=lds; RUN=cora narrows to one declared run): DOWNLOADS
# the paper's data into $COMPANION_DATA (python -m companion.data fetch; nothing else in the book
# downloads), then runs the chapter's CLI with the paper's data, protocol, architecture and budget
# (declared under paper_setting in book/NN_topic/course.yml), writing ./results/ like any CLI run.
# These are long runs: the chapter's "In the paper's own setting" section gives each one's time.
# DRY=1 prints the steps and downloads and runs nothing.
paper: $(STAMP)
	@test -n "$(CH)" || { echo "usage: make paper CH=<chapter module, e.g. lds> [RUN=id] [DRY=1] (downloads the paper's data into \$$COMPANION_DATA, then runs the paper's setting)"; exit 2; }
	$(BIN)/python -m companion.paper $(CH) $(if $(RUN),--run $(RUN)) $(if $(DRY),--dry-run)

# Every notebook idle and beside two CPU-bound background processes: prints the slow-down ratios.
bench-load: $(STAMP)
	COMPANION_NO_PROGRESS=1 $(BIN)/python tools/bench_load.py --out _build/bench_load.json

# Student notebooks (solutions replaced by answer cells, nbgrader metadata), a solution-free book
# (executed: tables and figures on the pages, each check cell showing its "not written yet" error),
# and the student package (no reference solutions; checks compare with stored outputs).
student: $(STAMP)
	$(BIN)/python -m companion.student --out _build/student
	$(BIN)/jupyter-book build _build/student --builder html
	@echo "Student notebooks: $(CURDIR)/_build/student/book/; HTML: $(CURDIR)/_build/student/_build/html/index.html"
	@echo "Student package (no reference solutions): pip install $(CURDIR)/_build/student/package"

# nbgrader in an environment of its own (.venv-nbgrader): its Jupyter pins stay out of .venv. The
# notebooks it grades still run in .venv's Python, through a kernelspec the round trip writes.
NBG_VENV ?= .venv-nbgrader
NBG_STAMP := $(NBG_VENV)/.installed
$(NBG_STAMP): requirements-nbgrader.txt
	test -x $(NBG_VENV)/bin/python || $(PYTHON) -m venv $(NBG_VENV)
	$(NBG_VENV)/bin/python -m pip install -q --upgrade pip
	$(NBG_VENV)/bin/python -m pip install -q -r requirements-nbgrader.txt
	touch $(NBG_STAMP)

# The nbgrader round trip of one chapter (CH=07_lds by default): the source edition, nbgrader
# generate_assignment, three submissions (correct, one wrong answer, one left unwritten), nbgrader
# autograde and companion.grade on the same files; fails unless both give the same points.
nbgrader-check: $(STAMP) $(NBG_STAMP)
	$(BIN)/python tools/nbgrader_roundtrip.py --chapter $(or $(CH),07_lds) --nbgrader-venv $(NBG_VENV) \
	  --out _build/nbgrader_roundtrip.json

# JupyterLab on notebook copies of every chapter in lab/ (excluded from the book build).
LAB_STAMP := $(VENV)/.lab-installed
$(LAB_STAMP): requirements-lab.txt $(STAMP)
	$(BIN)/python -m pip install -q -r requirements.txt -r requirements-lab.txt
	@$(BIN)/python -c 'import importlib.metadata as m, sys; sys.exit(m.version("torch").split("+")[0] != "2.13.0")' \
	  || { echo "torch is not 2.13.0: something replaced it"; exit 1; }
	touch $(LAB_STAMP)

# JUPYTER_ARGS: extra arguments for JupyterLab (e.g. --no-browser --port 8890 --ip 0.0.0.0).
# As root (containers, cloud notebooks) JupyterLab refuses to start without --allow-root.
JUPYTER_ARGS ?=
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: $(LAB_STAMP)
	$(BIN)/python tools/lab.py
	$(BIN)/jupyter lab $(ROOT_ARGS) $(JUPYTER_ARGS) lab/

clean:
	rm -rf _build
