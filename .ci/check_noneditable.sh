#!/usr/bin/env bash
# A non-editable install (`pip install .`) must run the chapter CLIs from any folder and write
# their results under that folder's ./results, never into the installed package; --publish must
# refuse (there is no book beside an installed package). Uses .venv's packages, the companion copy
# installed into a temporary target (PYTHONPATH puts it before .venv's editable install).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py="$root/.venv/bin/python"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" -m pip install -q --no-deps --no-build-isolation --target "$tmp/site" "$root" 2>/dev/null \
  || "$py" -m pip install -q --no-deps --target "$tmp/site" "$root"
# package data (pyproject's [tool.setuptools.package-data]) must be installed with the code
test -f "$tmp/site/companion/data/bigbuckbunny_boxes.json" \
  || { echo "the installed package lacks companion/data/bigbuckbunny_boxes.json (package-data)"; exit 1; }
mkdir "$tmp/work"
cd "$tmp/work"
export PYTHONPATH="$tmp/site" COMPANION_NO_PROGRESS=1
"$py" -c "import companion, sys; p = companion.__file__; sys.exit(0 if p.startswith('$tmp/site') else f'imported {p}, not the installed copy')"
"$py" -m companion.diffpool --num-graphs 24 --folds 2 --max-folds 1 --epochs 1 --models flat-mean >/dev/null
ls results/*.json >/dev/null || { echo "the CLI wrote no ./results/*.json"; exit 1; }
if find "$tmp/site" -name '*.json' -path '*results*' | grep -q .; then
  echo "the CLI wrote into the installed package:"; find "$tmp/site" -path '*results*' -name '*.json'; exit 1
fi
if "$py" -m companion.diffpool --epochs 1 --publish >/dev/null 2>"$tmp/err"; then
  echo "--publish should refuse without the book's checkout"; exit 1
fi
grep -q "needs the book's source checkout" "$tmp/err" || { cat "$tmp/err"; exit 1; }
echo "non-editable install: CLI wrote $(ls results) under the current folder; --publish refused"
