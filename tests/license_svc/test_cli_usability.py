"""What an operator meets first at the command line: readable help, and read-only commands that
say what they found instead of silently creating things."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from license_svc.cli import _register, app

runner = CliRunner()
_register()


@pytest.mark.parametrize("command", [["--help"], ["qr", "--help"], ["audit", "verify", "--help"],
                                     ["trust-list", "show", "--help"]])
def test_flags_are_shown_as_flags(command):
    out = runner.invoke(app, command).output
    assert "<bool>" not in out
    assert re.search(r"--help\s+Show this message", out)


def test_clients_list_without_a_database_says_so_and_creates_nothing(tmp_path):
    env = {"LICENSE_SVC_DATA_DIR": str(tmp_path / "var")}
    result = runner.invoke(app, ["clients", "list", "--region", "js"], env=env)
    assert result.exit_code == 3
    assert "数据库不存在" in result.output and "no database" in result.output
    assert not (tmp_path / "var").exists() or not any((tmp_path / "var").iterdir())


def test_clients_list_on_an_empty_database_says_there_are_none(tmp_path):
    from license_svc.config import load_settings
    from license_svc.db import upgrade

    env = {"LICENSE_SVC_DATA_DIR": str(tmp_path)}
    upgrade(load_settings(env, region="js"))
    result = runner.invoke(app, ["clients", "list", "--region", "js"], env=env)
    assert result.exit_code == 0, result.output
    assert "no API clients in region js" in result.output
    added = runner.invoke(app, ["clients", "add", "--id", "js-clerk", "--name", "窗口", "--role",
                                "relying", "--region", "js"], env=env)
    assert added.exit_code == 0, added.output
    listed = runner.invoke(app, ["clients", "list", "--region", "js"], env=env).output
    assert "js-clerk" in listed and "no API clients" not in listed


def test_db_upgrade_migrates_without_serving(tmp_path):
    env = {"LICENSE_SVC_DATA_DIR": str(tmp_path)}
    result = runner.invoke(app, ["db", "upgrade", "--region", "zj"], env=env)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "license-svc-zj.db").exists()
    assert runner.invoke(app, ["clients", "list", "--region", "zj"], env=env).exit_code == 0
