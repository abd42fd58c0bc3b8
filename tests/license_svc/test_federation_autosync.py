"""The background sync task (license_svc.federation.autosync) in-process: it starts with the
app, runs by itself on a short interval, stops on shutdown within its bound; its setting; the
per-list overview (`sync_overview`) and the /metrics gauges, including a list past its grace
(TRY_LATER, as trust_state has it)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from license_svc.config import ConfigError, load_settings
from license_svc.federation.autosync import JITTER, SyncTask, jittered
from license_svc.federation.models import KIND_TRUST_LIST, SyncedList
from license_svc.federation.sync import sync, sync_overview, trust_state
from license_svc.web import create_app
from tests.support.nodes import free_ports, wait_until


def _closed_peers() -> dict[str, str]:
    port = free_ports(1)[0]  # nothing listens there: every peer is unreachable at once
    return {r: f"http://127.0.0.1:{port}" for r in ("js", "zj", "ah")}


def test_task_runs_by_itself_with_the_app_and_stops_on_shutdown(settings_factory, ctx_factory):
    # 0.005 min = 0.3 s.  The real clock: the rows' checked_at must move between rounds.
    from datetime import datetime, timezone

    ctx = ctx_factory(settings_factory("sh", sync_interval_minutes=0.005, peers=_closed_peers()),
                      clock=lambda: datetime.now(timezone.utc))
    app = create_app(ctx=ctx)
    with TestClient(app):
        task = app.state.federation_sync_task
        assert task is not None and task.alive
        wait_until(lambda: task.rounds >= 3, timeout=20, what="three automatic rounds")
        with ctx.unit_of_work() as s:
            own = s.get(SyncedList, (KIND_TRUST_LIST, "sh"))
            assert own is not None and own.source_url == "local"
    assert not task.alive  # joined on shutdown
    rounds = task.rounds
    time.sleep(0.5)
    assert task.rounds == rounds


def test_interval_zero_starts_no_task(ctx):
    app = create_app(ctx=ctx)  # tests' settings: sync_interval_minutes=0
    with TestClient(app):
        assert app.state.federation_sync_task is None


def test_task_keeps_going_after_a_failed_round_and_stop_is_bounded():
    calls, release = [], threading.Event()

    def round_once():
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("peer exploded")
        if len(calls) == 3:
            release.wait(5)  # a round stuck in I/O
    task = SyncTask(round_once, 0.05).start()
    wait_until(lambda: len(calls) >= 3, timeout=5, what="rounds after a failure")
    started = time.monotonic()
    assert task.stop(timeout=0.3) is False  # still in the stuck round: not waited for longer
    assert time.monotonic() - started < 1.5
    release.set()
    wait_until(lambda: not task.alive, timeout=5, what="the task to end after its round")
    with pytest.raises(ValueError):
        SyncTask(round_once, 0)


def test_jitter_is_ten_percent():
    values = [jittered(600) for _ in range(2000)]
    assert min(values) >= 600 * (1 - JITTER) and max(values) <= 600 * (1 + JITTER)
    assert max(values) - min(values) > 60  # it does spread


def test_setting_from_environment_and_toml(tmp_path):
    assert load_settings({}).sync_interval_minutes == 10
    assert load_settings({"LICENSE_SVC_SYNC_INTERVAL_MINUTES": "0"}).sync_interval_minutes == 0
    assert load_settings({"LICENSE_SVC_SYNC_INTERVAL_MINUTES": "2.5"}).sync_interval_minutes == 2.5
    toml = tmp_path / "node.toml"
    toml.write_text("sync_interval_minutes = 0\n", encoding="utf-8")
    assert load_settings({"LICENSE_SVC_CONFIG": str(toml)}).sync_interval_minutes == 0
    for bad in ("soon", "-1"):
        with pytest.raises(ConfigError):
            load_settings({"LICENSE_SVC_SYNC_INTERVAL_MINUTES": bad})


def test_overview_metrics_and_grace(settings_factory, ctx_factory, clock):
    ctx = ctx_factory(settings_factory("sh", peers=_closed_peers()))
    sync(ctx)
    overview = sync_overview(ctx)
    assert overview["federation"]["usable"] and overview["federation"]["source"] == "local"
    sh = overview["regions"]["sh"]
    assert (sh["state"], sh["error"], sh["sequence"], sh["age_seconds"]) == ("usable", False, 1, 0)
    assert overview["regions"]["js"]["state"] == "try-later" and overview["regions"]["js"]["error"]
    assert overview["unavailable"] == ["ah", "js", "zj"]
    with ctx.unit_of_work() as s:
        assert [p["region"] for p in trust_state(ctx, s).payloads()] == ["sh"]

    client = TestClient(create_app(ctx=ctx))
    text = client.get("/metrics").text
    assert 'license_svc_trust_list_sequence{region="sh"} 1.0' in text
    assert 'license_svc_trust_list_error{region="sh"} 0.0' in text
    assert 'license_svc_trust_list_error{region="js"} 1.0' in text
    assert 'license_svc_trust_list_usable{region="federation"} 1.0' in text
    ready = client.get("/readyz").json()
    assert ready["trust_lists"]["regions"]["sh"]["usable"] is True

    # Past next_update (24 h) and the grace (24 h): sh's list is TRY_LATER, as in trust_state.
    clock.advance(hours=49)
    later = sync_overview(ctx)
    assert later["regions"]["sh"]["state"] == "try-later" and later["regions"]["sh"]["error"]
    assert later["regions"]["sh"]["age_seconds"] == int(timedelta(hours=49).total_seconds())
    with ctx.unit_of_work() as s:
        assert "sh" in trust_state(ctx, s).unavailable()
    assert 'license_svc_trust_list_error{region="sh"} 1.0' in client.get("/metrics").text
