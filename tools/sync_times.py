"""Keep the run times in one place: each chapter's ``course.yml`` ``execution_seconds``.

    python tools/sync_times.py --from _build/notebook_durations.json   # after `make test`
    python tools/sync_times.py                                         # README from course.yml

With ``--from``, the measured notebook times (written by the root ``conftest.py`` under nbval)
are first copied into the course files; then the README's chapter table is rewritten from them.
The syllabus and each chapter's header read the course files directly.
"""

from __future__ import annotations

import argparse
import json
import sys

from companion import course
from companion.utils import repo_path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--from", dest="source", help="notebook_durations.json written by `make test`")
    args = ap.parse_args(argv)
    if args.source:
        try:
            durations = json.loads(open(args.source).read())
        except (OSError, json.JSONDecodeError) as e:
            ap.error(f"--from {args.source}: cannot read a JSON object of notebook times ({e})")
        for folder, seconds in sorted(course.set_execution_seconds(durations).items()):
            print(f"{folder}: execution_seconds {seconds}")
    readme = repo_path("README.md")
    readme.write_text(course.readme_with_times(readme.read_text()))
    print(f"wrote {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
