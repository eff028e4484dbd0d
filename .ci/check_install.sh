#!/usr/bin/env bash
# Does installing the package keep the CPU torch? In a fresh venv, ask pip what `pip install .`
# and `pip install .[chapters]` would install (dry run, nothing is installed) and fail unless
# torch resolves to 2.13.0 and no nvidia-* (CUDA) package comes with it. The machine's pip
# constraint (a torch cap) is switched off, so the check is on pyproject's pin alone.
# Prints one line; exit 0 when both resolve as required. About 30 s.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
for target in . ".[chapters]"; do
  name=$([ "$target" = . ] && echo core || echo chapters)
  if ! PIP_CONSTRAINT="" "$tmp/venv/bin/pip" install --dry-run --quiet --ignore-installed \
      --report "$tmp/$name.json" "$target" >"$tmp/$name.log" 2>&1; then
    echo "check_install: FAIL: pip could not resolve $target"; grep -v '^WARNING: Location' "$tmp/$name.log" | tail -5
    exit 1
  fi
done
python3 - "$tmp/core.json" "$tmp/chapters.json" <<'PY'
import json, sys
problems, seen = [], []
for path, name in zip(sys.argv[1:], ("core", "chapters")):
    pkgs = {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in json.load(open(path))["install"]}
    torch = pkgs.get("torch", "absent")
    seen.append(f"{name}: torch {torch}, {len(pkgs)} packages")
    if torch.split("+")[0] != "2.13.0":
        problems.append(f"{name}: torch {torch}, expected 2.13.0")
    cuda = sorted(n for n in pkgs if n.startswith("nvidia-"))
    if cuda:
        problems.append(f"{name}: CUDA packages {', '.join(cuda)}")
if problems:
    sys.exit("check_install: FAIL: " + "; ".join(problems))
print("check_install: OK: " + "; ".join(seen) + "; no nvidia-*")
PY
