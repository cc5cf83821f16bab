"""One tenant must not reach the mock itself, link-local/metadata hosts, or (in keyed mode) private ones.

Every non-loopback address is stubbed (`resolve_as`) and the connection layer refuses it (`connections`):
a refusal must come before any connection, and an allowed host shows up as an attempt the test refused.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import pytest

from tests.security.conftest import client_for, deliveries, submit, wait_for, wait_until

if TYPE_CHECKING:
    from collections.abc import Callable

    from mock_server.testing import RunningServer
    from tests.security.conftest import HostileHost

REFUSED = "audio_url host is not allowed"
STUBS = {
    "metadata.test": "169.254.169.254",
    "link.test": "fe80::1",
    "alibaba-metadata.test": "100.100.100.200",
    "private.test": "10.1.2.3",
    "public.test": "93.184.215.14",
    "mixed.test": "192.168.7.7",
}


def _ended(server: RunningServer, url: str) -> dict[str, Any]:
    with client_for(server) as client:
        return wait_for(client, submit(client, url))


@pytest.mark.parametrize(
    "spelling",
    ["127.0.0.1", "localhost", "127.1", "0x7f.0.0.1", "2130706433", "[::ffff:127.0.0.1]", "0.0.0.0", "[::1]"],
)
def test_audio_is_never_fetched_from_the_mock_itself(
    serve: Callable[..., RunningServer], spelling: str
) -> None:
    server = serve()  # open mode, no allow-list: loopback is allowed, but not the mock's own port
    port = server.settings.port
    video = _ended(server, f"http://{spelling}:{port}/__admin/requests")
    assert video["error"] == {"code": 10002, "message": REFUSED}


def test_a_redirect_to_the_mock_itself_is_refused(
    serve: Callable[..., RunningServer], hostile: HostileHost
) -> None:
    server = serve()
    url = hostile.redirect("/to-mock", f"http://localhost:{server.settings.port}/__admin/requests")
    assert _ended(server, url)["error"] == {"code": 10002, "message": REFUSED}


def test_a_callback_to_the_mock_itself_never_resets_it(
    serve: Callable[..., RunningServer], hostile: HostileHost
) -> None:
    server = serve()
    with client_for(server) as victim, client_for(server) as attacker:
        kept = submit(victim, hostile.url("/ok.wav"))
        assert wait_for(victim, kept)["status"] == "finished"
        own = f"http://127.0.0.1:{server.settings.port}/__admin/reset"
        ended = wait_for(attacker, submit(attacker, hostile.url("/ok.wav"), callback_url=own))
        assert ended["status"] == "finished"
        ended_deliveries = wait_until(
            lambda: [
                d for d in deliveries(server, ended["video_id"]) if d["state"] in ("delivered", "failed")
            ],
            what="the delivery to end",
        )
        assert ended_deliveries[0]["state"] == "failed"
        assert ended_deliveries[0]["last_error"] == "callback_url host is not allowed"
        assert (
            victim.get("/v1/a2v/video.get", params={"video_id": kept}).json()["data"]["status"] == "finished"
        )


@pytest.mark.parametrize(
    ("mode", "url"),
    [
        ("open", "http://169.254.169.254/latest/meta-data/"),
        ("open", "http://metadata.test/computeMetadata/v1/"),
        ("open", "http://[::ffff:169.254.169.254]/"),
        ("open", "http://link.test:8080/"),
        ("open", "http://alibaba-metadata.test/"),
        ("keyed", "http://private.test/a.wav"),
        ("keyed", "http://10.0.0.1/a.wav"),
        ("keyed", "http://mixed.test:22/"),
        ("keyed", "http://127.0.0.1:1/a.wav"),  # a closed loopback port ...
        ("keyed", "hostile"),  # ... and an open one answer the same
        ("listed", "http://169.254.169.254/"),  # link-local even when listed
    ],
)
def test_refused_hosts_are_never_contacted_and_all_refusals_read_alike(
    serve: Callable[..., RunningServer],
    hostile: HostileHost,
    resolve_as: Callable[[dict[str, str]], None],
    connections: list[tuple[str, int]],
    mode: str,
    url: str,
) -> None:
    resolve_as(STUBS)
    settings: dict[str, Any] = {} if mode == "open" else {"api_keys": ["k1"]}
    if mode == "listed":
        settings["audio_hosts"] = ["169.254.169.254"]
    server = serve(**settings)
    url = hostile.url("/ok.wav") if url == "hostile" else url
    with client_for(server, None if mode == "open" else "k1") as client:
        video = wait_for(client, submit(client, url))
    assert video["error"] == {"code": 10002, "message": REFUSED}
    assert connections == []


@pytest.mark.parametrize(
    ("settings", "url", "reached"),
    [
        ({"api_keys": ["k1"]}, "http://public.test/a.wav", ("93.184.215.14", 80)),
        (
            {"api_keys": ["k1"], "audio_hosts": ["private.test"]},
            "http://private.test/a.wav",
            ("10.1.2.3", 80),
        ),
        ({}, "http://private.test:8080/a.wav", ("10.1.2.3", 8080)),  # open mode: a developer's LAN
    ],
)
def test_allowed_hosts_are_connected_to_at_the_checked_address(
    serve: Callable[..., RunningServer],
    resolve_as: Callable[[dict[str, str]], None],
    connections: list[tuple[str, int]],
    settings: dict[str, Any],
    url: str,
    reached: tuple[str, int],
) -> None:
    resolve_as(STUBS)
    server = serve(**settings)
    with client_for(server, "k1") as client:
        video = wait_for(client, submit(client, url))
    assert video["error"]["code"] == 10002
    assert "not allowed" not in video["error"]["message"]
    assert connections == [reached]


def test_keyed_mode_reaches_loopback_only_when_listed(
    serve: Callable[..., RunningServer], hostile: HostileHost
) -> None:
    server = serve(api_keys=["k1"], audio_hosts=["127.0.0.1"], callback_hosts=["127.0.0.1"])
    with client_for(server, "k1") as client:
        video = wait_for(client, submit(client, hostile.url("/ok.wav"), callback_url=hostile.url("/hook")))
    assert video["status"] == "finished"
    wait_until(lambda: hostile.count("/hook", method="POST"), what="the callback")


def test_keyed_callbacks_to_unlisted_private_hosts_are_refused_without_a_connection(
    serve: Callable[..., RunningServer],
    hostile: HostileHost,
    resolve_as: Callable[[dict[str, str]], None],
    connections: list[tuple[str, int]],
) -> None:
    resolve_as(STUBS)
    server = serve(api_keys=["k1"], admin_key="admin-1", audio_hosts=["127.0.0.1"])
    with client_for(server, "k1") as client:
        video = wait_for(
            client, submit(client, hostile.url("/ok.wav"), callback_url="http://private.test/hook")
        )
    ended_deliveries = wait_until(
        lambda: [d for d in deliveries(server, video["video_id"]) if d["state"] == "failed"],
        what="the refused delivery",
    )
    assert ended_deliveries[0]["attempts"] == 1
    assert ended_deliveries[0]["last_error"] == "callback_url host is not allowed"
    assert connections == []


@pytest.mark.parametrize("mode", ["open", "keyed"])
def test_the_mocks_own_samples_are_read_in_process_not_fetched(
    serve: Callable[..., RunningServer], connections: list[tuple[str, int]], mode: str
) -> None:
    server = serve(**({} if mode == "open" else {"api_keys": ["k1"]}))
    port = server.settings.port
    with client_for(server, None if mode == "open" else "k1") as client:
        sample = wait_for(client, submit(client, f"http://localhost:{port}/samples/short.wav"))
        other = wait_for(client, submit(client, f"http://localhost:{port}/samples/../__admin/requests"))
    assert sample["status"] == "finished"
    assert other["error"] == {"code": 10002, "message": REFUSED}
    assert connections == []


def test_the_cli_takes_audio_and_callback_host_lists() -> None:
    from mock_server.runtime.cli import _changes, _parser

    args = _parser().parse_args(["--audio-host", "a.test", "--callback-hosts", "b.test", "10.0.0.2"])
    changes = _changes(args)
    assert changes["audio_hosts"] == ["a.test"]
    assert changes["callback_hosts"] == ["b.test", "10.0.0.2"]


def test_a_name_that_does_not_resolve_reads_like_a_refused_host(
    serve: Callable[..., RunningServer],
    resolve_as: Callable[[dict[str, str]], None],
    connections: list[tuple[str, int]],
) -> None:
    """What the operator's resolver knows must not show: an unknown name and a refused address end
    with the same code and message, for audio and callbacks alike, and nothing is connected to."""
    resolve_as(STUBS)  # `nowhere.test` is not in it: its resolution fails
    # No allow-lists: an unlisted name would be refused by name, before any lookup.
    server = serve(api_keys=["k1"], admin_key="admin-1", callback_backoff_seconds=0.01)
    sample = f"{server.base_url}/samples/short.wav"  # the mock's own: read in-process
    with client_for(server, "k1") as client:
        refused = wait_for(client, submit(client, "http://private.test/a.wav"))
        unknown = wait_for(client, submit(client, "http://nowhere.test/a.wav"))
        hooks = {
            name: wait_for(client, submit(client, sample, callback_url=url))["video_id"]
            for name, url in (("refused", "http://private.test/h"), ("unknown", "http://nowhere.test/h"))
        }
    assert refused["error"] == unknown["error"] == {"code": 10002, "message": REFUSED}

    def failed(video_id: str) -> list[dict[str, Any]]:
        return [d for d in deliveries(server, video_id) if d["state"] == "failed"]

    ended = {
        name: wait_until(functools.partial(failed, video_id), what=f"the {name} delivery to fail")[0]
        for name, video_id in hooks.items()
    }
    assert (
        ended["refused"]["last_error"] == ended["unknown"]["last_error"] == "callback_url host is not allowed"
    )
    assert connections == []
