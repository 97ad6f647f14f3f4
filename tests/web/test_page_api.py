"""The page's JSON API on a real host, over HTTP: the vocabulary, change counters instead of hashing
planes, ROIs read through the client and the user's hands through the host's control requests."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from osirixgrpc import types_pb2, viewercontroller_pb2

from osirix_tasks import vocabulary
from osirix_tasks.client import Connection
from osirix_tasks.testing import RunningHost

from .conftest import Page as WebPage


class Page:
    """The page's API of one host: ``get``/``post`` as the page itself sends them (conftest's
    :meth:`~tests.web.conftest.Page.api`: the token header, and for writes its Origin and JSON)."""

    def __init__(self, web: WebPage):
        self.web = web

    def call(self, method: str, path: str, body: Any = None) -> Any:
        status, data = self.web.api(method, path, json.dumps(body).encode() if body is not None else None)
        assert status == 200, (method, path, status, data[:300])
        return json.loads(data)

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    def post(self, path: str, body: Any = None) -> Any:
        return self.call("POST", path, body or {})


@pytest.fixture(scope="module")
def served(web: WebPage) -> tuple[RunningHost, Page]:
    return web.host, Page(web)


def _open_viewer(page: Page) -> str:
    series = page.get("/api/database")["studies"][0]["series"][0]
    return str(page.post(f"/api/series/{series['uid']}/open")["viewer"])


def test_the_page_reads_the_one_vocabulary(served: tuple[RunningHost, Page]) -> None:
    _, page = served
    assert page.get("/api/vocabulary") == json.loads(json.dumps(vocabulary.as_json()))


def test_dates_keep_their_seconds_as_osirix_does(served: tuple[RunningHost, Page]) -> None:
    _, page = served
    study = page.get("/api/database")["studies"][0]
    assert study["date"] is None or len(study["date"]) == len("2024-01-02 03:04:05")
    assert study["series"] and all(s["series_uid"] for s in study["series"])


def test_changes_are_counted_per_viewer_and_aspect(served: tuple[RunningHost, Page]) -> None:
    host, page = served
    start = page.get("/api/changes")
    assert start["supported"] is True
    viewer = _open_viewer(page)
    opened = page.get(f"/api/changes?since={start['now']}")
    assert opened["windows"] > start["now"]

    with Connection(host.address) as connection:  # a task changes the display, then the pixels
        ref = types_pb2.ViewerController(osirixrpc_uid=viewer)
        connection.call(
            "ViewerControllerSetWLWW",
            viewercontroller_pb2.ViewerControllerSetWLWWRequest(viewer_controller=ref, wl=1, ww=2),
        )
        shown = page.get(f"/api/changes?since={opened['now']}")
        assert set(shown["viewers"]) == {viewer}
        versions = shown["viewers"][viewer]
        assert versions["display"] > opened["now"] and versions["pixels"] <= opened["now"]
        assert page.get(f"/api/viewers/{viewer}")["version"] == versions["version"]

        state = page.get(f"/api/viewers/{viewer}")
        plane = state["pix"][0][state["idx"]]
        digest = page.get(f"/api/pix/{plane}/digest")["digest"]
        pix = types_pb2.DCMPix(osirixrpc_uid=plane)
        connection.set_pixels(pix, np.zeros((state["rows"], state["columns"]), dtype=np.float32))
    changed = page.get(f"/api/changes?since={shown['now']}")
    assert changed["viewers"][viewer]["pixels"] > shown["now"] and changed["pixels"] > shown["now"]
    assert page.get(f"/api/pix/{plane}/digest")["digest"] != digest
    assert page.get(f"/api/changes?since={changed['now']}")["viewers"] == {}  # nothing since


def test_drawn_rois_are_listed_selected_and_measured_through_one_listing(served: tuple[RunningHost, Page]) -> None:
    host, page = served
    viewer = _open_viewer(page)
    state = page.get(f"/api/viewers/{viewer}")
    before = page.get("/api/changes")["now"]
    at = f"frame={state['movie_idx']}&slice={state['idx']}"
    page.post(f"/api/viewers/{viewer}/rois", {"itype": 9, "name": "disc", "rect": [64, 64, 10, 6], **_plane(state)})
    page.post(f"/api/viewers/{viewer}/rois", {"itype": 13, "name": "note", "rect": [20, 30, 1, 1], **_plane(state)})
    rois = {r["name"]: r for r in page.get(f"/api/viewers/{viewer}/rois?{at}")["rois"]}
    assert page.get(f"/api/changes?since={before}")["viewers"][viewer]["rois"] > before

    disc = rois["disc"]
    assert (disc["kind"], disc["thickness"], disc["color"]) == ("Oval", vocabulary.NEW_ROI_THICKNESS, [0, 255, 0])
    spacing = state["spacing"]  # OsiriX's oval: pi x half-axes, in cm2
    assert disc["area"] == pytest.approx(np.pi * 10 * 6 * spacing[0] * spacing[1] / 100, rel=0.02)
    assert disc["mean"] is not None
    assert rois["note"]["points"] == [[20.0, 30.0]]  # the text's place, from the host (its -points is empty)
    assert rois["note"]["selected"] and not disc["selected"]  # the last drawn is the selected one

    page.post(f"/api/viewers/{viewer}/select-rois", {"uids": [disc["uid"]]})
    listed = host.cli("roi", "list", "--json", "--server", host.address)  # the same hands, seen by the CLI
    selected = {r["name"] for r in json.loads(listed.stdout) if r["selected"]}
    assert selected == {"disc"}


def _plane(state: dict[str, Any]) -> dict[str, int]:
    return {"frame": state["movie_idx"], "slice": state["idx"]}


def test_prefetched_planes_travel_together_as_osirix_gives_them(served: tuple[RunningHost, Page]) -> None:
    """GET /api/pix?uids=...: several planes in one answer, each as the protocol gives it; a plane that
    cannot be read is named with OsiriX's reason while the others still come; too many are refused."""
    host, page = served
    state = page.get(f"/api/viewers/{_open_viewer(page)}")
    uids = state["pix"][0][:3]
    asked = [uids[0], "no-such-pix", *uids[1:]]
    status, headers, body = page.web.request(
        "GET", f"/api/pix?uids={','.join(asked)}", headers={"X-Osirix-Tasks-Token": page.web.token}
    )
    assert status == 200, body[:300]
    listing = json.loads(headers["x-planes"])
    assert [p["uid"] for p in listing] == asked
    assert "error" in listing[1] and "bytes" not in listing[1]
    dtypes = {"uint16": "<u2", "int16": "<i2", "float32": "<f4"}
    at = 0
    with Connection(host.address) as connection:
        for entry in (p for p in listing if "error" not in p):
            expected = connection.pixels(types_pb2.DCMPix(osirixrpc_uid=entry["uid"]))
            values = np.frombuffer(body[at : at + entry["bytes"]], dtype=dtypes[entry["format"]])
            at += entry["bytes"]
            np.testing.assert_array_equal(values.reshape(entry["rows"], entry["columns"]).astype(np.float32), expected)
            if entry["format"] != "float32":
                assert (entry["low"], entry["high"]) == (expected.min(), expected.max())
    assert at == len(body)
    status, data = page.web.api("GET", f"/api/pix?uids={','.join([uids[0]] * 17)}")
    assert status == 400 and json.loads(data)["field"] == "uids"
