"""Publish the book's links: set the repository URL in ``_config.yml`` and turn on the buttons
that link to it (repository, issues, Binder launch), or turn them all off with ``--unset``.

    python tools/set_repository.py https://github.com/ORG/REPO [--branch main]
    python tools/set_repository.py --unset

One setting, so that the book never shows a button whose link leads nowhere.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

BINDER = "https://mybinder.org"


def set_repository(config: str, url: str, branch: str = "main") -> str:
    """``config`` (the text of ``_config.yml``) with ``url`` set and the buttons on; ``url=""``
    turns them off."""
    on = "true" if url else "false"
    subs = [(r"(?m)^(repository:\n(?:  .*\n)*?  url:).*$", rf'\1 "{url}"'),
            (r"(?m)^(repository:\n(?:  .*\n)*?  branch:).*$", rf"\1 {branch}"),
            (r"(?m)^(  binderhub_url:).*$", rf'\1 "{BINDER if url else ""}"'),
            (r"(?m)^(  use_repository_button:).*$", rf"\1 {on}"),
            (r"(?m)^(  use_issues_button:).*$", rf"\1 {on}")]
    for pattern, repl in subs:
        config, n = re.subn(pattern, repl, config, count=1)
        if n != 1:
            raise ValueError(f"_config.yml has no line matching {pattern!r}")
    return config


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url", nargs="?", help="the repository's https URL, e.g. https://github.com/ORG/REPO")
    ap.add_argument("--branch", default="main", help="the branch the book is built from (default: main)")
    ap.add_argument("--unset", action="store_true", help="remove the URL and turn the buttons off")
    ap.add_argument("--config", default=str(Path(__file__).resolve().parents[1] / "_config.yml"))
    args = ap.parse_args(argv)
    if args.unset == bool(args.url):
        ap.error("give either a repository URL or --unset")
    if args.url and not re.fullmatch(r"https://[^\s/]+/[^\s/]+/[^\s/]+?/?", args.url):
        ap.error(f"url: expected https://HOST/OWNER/REPO, got {args.url!r}")
    path = Path(args.config)
    path.write_text(set_repository(path.read_text(), (args.url or "").rstrip("/"), args.branch))
    print(f"{path}: repository {'set to ' + args.url if args.url else 'unset'}; buttons "
          f"{'on' if args.url else 'off'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
