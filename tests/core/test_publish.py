"""The book's outward links come from one setting: no button without a repository URL."""

import importlib.util

import pytest
import yaml

from companion.utils import repo_path

spec = importlib.util.spec_from_file_location("set_repository", repo_path("tools", "set_repository.py"))
set_repository = importlib.util.module_from_spec(spec)
spec.loader.exec_module(set_repository)


def buttons(config: dict) -> dict:
    return {"repository": config["html"]["use_repository_button"], "issues": config["html"]["use_issues_button"],
            "binder": bool(config["launch_buttons"]["binderhub_url"])}


def test_committed_config_shows_buttons_only_with_a_repository():
    config = yaml.safe_load(repo_path("_config.yml").read_text())
    shown = set(buttons(config).values())
    assert shown == {bool(config["repository"]["url"])}, buttons(config)


def test_one_command_turns_every_button_on_and_off(tmp_path):
    path = tmp_path / "_config.yml"
    path.write_text(repo_path("_config.yml").read_text())
    assert set_repository.main(["https://github.com/org/book", "--branch", "pages", "--config", str(path)]) == 0
    on = yaml.safe_load(path.read_text())
    assert on["repository"]["url"] == "https://github.com/org/book" and on["repository"]["branch"] == "pages"
    assert set(buttons(on).values()) == {True}
    assert set_repository.main(["--unset", "--config", str(path)]) == 0
    off = yaml.safe_load(path.read_text())
    assert off["repository"]["url"] == "" and set(buttons(off).values()) == {False}


@pytest.mark.parametrize("argv", [[], ["github.com/org/book"], ["https://github.com/org/book", "--unset"]])
def test_a_bad_url_or_no_choice_is_refused(tmp_path, argv, capsys):
    path = tmp_path / "_config.yml"
    path.write_text(repo_path("_config.yml").read_text())
    with pytest.raises(SystemExit) as e:
        set_repository.main([*argv, "--config", str(path)])
    assert e.value.code == 2 and path.read_text() == repo_path("_config.yml").read_text()


def test_binder_installs_the_cpu_torch_the_pins_and_the_package():
    reqs = repo_path("binder", "requirements.txt").read_text().splitlines()
    assert "torch==2.13.0+cpu" in reqs and "-r ../requirements.txt" in reqs
    assert any(r.startswith("--extra-index-url https://download.pytorch.org/whl/cpu") for r in reqs)
    post = repo_path("binder", "postBuild")
    assert post.stat().st_mode & 0o111, "postBuild must be executable"
    assert "pip install --no-deps --no-build-isolation -e ." in post.read_text()
    assert repo_path("binder", "runtime.txt").read_text().strip() == "python-3.11"
