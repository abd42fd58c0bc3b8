"""Shell blocks of README.md and docs/*.md marked `<!-- runnable … -->` run against a live node,
so the commands a newcomer copies cannot drift from the service.

Each marked block runs in `bash -euo pipefail` in a scratch folder that sees the repository's
keys_dev/ and license_svc/ (the paths the docs use), with 127.0.0.1:8000 pointed at the node
started here, `curl` failing on HTTP errors (the docs use `-s` for readable output; a 4xx there
would otherwise pass unseen) and `xdg-open FILE` replaced by a check that FILE is not empty."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.nodes import child_env, free_ports, wait_until

REPO = Path(__file__).resolve().parents[1]
MARK = re.compile(r"<!-- runnable[^>]*-->\n```[a-z]*\n(.*?)```", re.S)
PRELUDE = """curl() { command curl --fail-with-body "$@"; }
xdg-open() { test -s "$1"; }
"""


def _blocks():
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for i, m in enumerate(MARK.finditer(doc.read_text("utf-8"))):
            yield pytest.param(m.group(1), id=f"{doc.name}#{i + 1}")


BLOCKS = list(_blocks())


def test_the_readme_tour_is_marked_runnable():
    assert any(p.id.startswith("README.md") for p in BLOCKS)


def test_the_api_walkthroughs_are_marked_runnable():
    """docs/api.md's key, grant-and-retrieve and 亮证-and-verify rounds run like the README tour."""
    assert sum(p.id.startswith("api.md") for p in BLOCKS) >= 4


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    import httpx

    work = tmp_path_factory.mktemp("node")
    port = free_ports(1)[0]
    env = child_env({**os.environ, "LICENSE_SVC_DATA_DIR": str(work / "var"),
                     "LICENSE_SVC_SYNC_INTERVAL_MINUTES": "0"})
    env.pop("LICENSE_SVC_DATABASE_URL", None)
    log = open(work / "serve.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "license_svc", "serve", "--port", str(port)],
                            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200,
                   timeout=120, what="the node to be ready")
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.mark.parametrize("block", BLOCKS)
def test_runnable_block(block, node, tmp_path):
    for name in ("keys_dev", "license_svc"):
        (tmp_path / name).symlink_to(REPO / name)
    script = PRELUDE + block.replace("127.0.0.1:8000", f"127.0.0.1:{node}")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"stdout:\n{done.stdout[-2000:]}\nstderr:\n{done.stderr[-2000:]}"
