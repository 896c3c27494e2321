"""The README stays true: its examples run, and its configuration table is current."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
import typer.main

from clusterer import ClusterConfig
from clusterer.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text("utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(ROOT / "corpus", tmp_path / "corpus")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_python_examples_run(workdir: Path) -> None:
    examples = blocks("python")
    assert len(examples) >= 5
    for code in examples:
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})


@pytest.mark.slow
def test_console_examples_run(workdir: Path) -> None:
    commands = [
        line
        for block in blocks("console")
        for line in block.splitlines()
        if "clusterer " in line and not line.startswith(("#", "python3 -m venv"))
    ]
    assert len(commands) >= 10
    env = {**os.environ, "COLUMNS": "120"}
    for command in commands:
        shell = command.replace("clusterer ", f"{sys.executable} -m clusterer ")
        proc = subprocess.run(
            shell, shell=True, cwd=workdir, capture_output=True, text=True, env=env, timeout=300
        )
        assert proc.returncode == 0, f"{command}\n{proc.stderr}"


def test_config_table_lists_every_parameter_with_its_default() -> None:
    table = README.split("<!-- config:start -->")[1].split("<!-- config:end -->")[0]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            for name in re.findall(r"`(\w+)`", cells[0]):
                rows[name] = cells[2]
    defaults = ClusterConfig()
    for f in fields(ClusterConfig):
        assert f.name in rows, f"README configuration table lacks {f.name}"
        value = getattr(defaults, f.name)
        shown = repr(value) if isinstance(value, str) else str(value)
        assert shown in rows[f.name], f"README shows {rows[f.name]} for {f.name}, not {shown}"


@pytest.mark.parametrize("command", ["cluster", "explain"])
def test_every_parameter_has_an_option(command: str) -> None:
    click_app = typer.main.get_command(app)
    options = {
        opt
        for param in click_app.commands[command].params  # type: ignore[attr-defined]
        for opt in getattr(param, "opts", [])
    }
    for f in fields(ClusterConfig):
        assert "--" + f.name.replace("_", "-") in options, f.name
