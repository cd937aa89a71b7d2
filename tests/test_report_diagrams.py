"""The report's SVG diagrams, checked through the data- attributes they carry.

Models are built by hand (no simulation), so each test states exactly the facts a picture
has to show: counts of nodes, arrows and lanes, grouping past 50 routers, failure and wait
marks, the FSM edges, determinism and escaping.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from typing import Any

import pytest

from sim.report.clock import moment, parse_start, span
from sim.report.diagrams import (
    SvgPicture,
    fsm_svg,
    hierarchy_svg,
    sequence_svg,
    timeline_svg,
    topology_svg,
)
from sim.report.model import (
    CertNode,
    Exchange,
    LinkFact,
    ReportModel,
    RouterFact,
    ServerTimeline,
    StateChange,
    Transition,
    Wait,
)

DIAGRAMS = (hierarchy_svg, topology_svg, sequence_svg, timeline_svg, fsm_svg)
STATES = ("initial", "check failed", "enabled", "disabled")
SIGNALS = ("no shut", "time set", "cert configured", "shut")


def md5_of(n: int) -> str:
    digest = f"{n:032X}"
    return " ".join(digest[i:i + 8] for i in range(0, 32, 8))


def cert(n: int, router: str, role: str, parent: str | None, name: str = "CA",
         **changes: Any) -> CertNode:
    node = CertNode(
        key=md5_of(n), router=router, name=name, role=role,
        subject=f"hostname={router},cn={router},ou=Lab,o=Example,c=US",
        issuer="cn=ROOT", serial=n, not_before="2024-01-06T20:57:37+00:00",
        not_after="2025-01-05T20:57:37+00:00", key_bits=1024, md5=md5_of(n),
        sha1="AB" * 20, parent=parent, revoked=False, expired=False)
    return replace(node, **changes)


def exchange(client: str, server: str | None, start: float, result: str = "SUCCESS",
             operation: str = "PKIOperation", message: str | None = "PKCSReq",
             transaction: str | None = "T1") -> Exchange:
    return Exchange(client=client, server=server, trustpoint="CA", operation=operation,
                    message=message, result=result, start=start, end=start + 0.01,
                    transaction=transaction)


TABLE = (
    Transition("initial", "no shut", "run enabling checks", ("enabled", "check failed")),
    Transition("initial", "time set", "stay", ("initial",)),
    Transition("check failed", "time set", "run enabling checks",
               ("enabled", "check failed")),
    Transition("check failed", "shut", "disable", ("disabled",)),
    Transition("enabled", "shut", "disable", ("disabled",)),
    Transition("disabled", "no shut", "run enabling checks", ("enabled", "check failed")),
)


def make_model(**changes: Any) -> ReportModel:
    """A root CA on R1, a sub-CA on R2, a router R3 under it: the seed's lab, in miniature."""
    root = cert(1, "R1", "root", None, name="ROOT")
    sub = cert(2, "R2", "sub-ca", root.key, name="SUB")
    leaf = cert(3, "R3", "router", sub.key, name="SUB")
    model = ReportModel(
        scenario="mini", description="", seed=1, version="0.1.0",
        start="2024-01-06T20:57:00+00:00", duration=600.0, passed=True,
        routers=(RouterFact("R1", "10.0.0.1", {"ROOT": "enabled"}, True),
                 RouterFact("R2", "10.0.0.2", {"SUB": "enabled"}, True),
                 RouterFact("R3", "10.0.0.3", {}, True)),
        links=(LinkFact("R1", "R2", 0.002, 0.0), LinkFact("R2", "R3", 0.002, 0.0)),
        certificates=(root, sub, leaf),
        exchanges=(
            exchange("R2", "R1", 10.0, "CA certificate", "GetCACert", None, None),
            exchange("R2", "R1", 11.0, "PENDING"),
            exchange("R2", "R1", 71.0, "SUCCESS", message="GetCertInitial"),
            exchange("R3", "R2", 120.0, "SUCCESS"),
        ),
        waits=(Wait("R2", "R1", "T1", 11.0, 71.0, True),),
        timelines=(
            ServerTimeline("R1", "ROOT", (StateChange(5.0, "initial", "enabled", "no shut",
                                                      None),), "enabled"),
            ServerTimeline("R2", "SUB", (
                StateChange(6.0, "initial", "check failed", "no shut", "no CA certificate"),
                StateChange(72.0, "check failed", "enabled", "cert configured", None),
            ), "enabled"),
        ),
        states=STATES, signals=SIGNALS, transitions=TABLE, expectations=(),
        transcripts={}, artifacts={})
    return replace(model, **changes)


def parse(picture: SvgPicture) -> ET.Element:
    return ET.fromstring(picture.svg)


def with_attr(root: ET.Element, name: str) -> list[ET.Element]:
    return [el for el in root.iter() if name in el.attrib]


def text_of(root: ET.Element) -> str:
    return " ".join(t for el in root.iter() for t in (el.text or "",) if t)


# --------------------------------------------------------------------------- every picture


@pytest.mark.parametrize("draw", DIAGRAMS, ids=lambda f: f.__name__)
def test_every_picture_is_self_contained_accessible_and_fits_the_page(draw: Any) -> None:
    """A report.html picture could run scripts, load outside content, have unreadably small text or
    no title for screen readers."""
    picture = draw(make_model())
    root = parse(picture)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    assert root[0].tag.endswith("title") and root[0].text
    assert root.get("viewBox") == f"0 0 {picture.width} {picture.height}"
    assert root.get("width") == "100%"
    assert f"max-width:{picture.width}px" in (root.get("style") or "")
    assert picture.width <= 1200
    # Nothing that could reach outside the picture or leak into the page.
    for tag in ("script", "style", "image", "foreignObject", "use"):
        assert not root.findall(f".//{{http://www.w3.org/2000/svg}}{tag}")
    assert "href" not in picture.svg and " id=" not in picture.svg
    sizes = [float(el.get("font-size", "12")) for el in root.iter() if el.tag.endswith("text")]
    assert sizes and min(sizes) >= 12


@pytest.mark.parametrize("draw", DIAGRAMS, ids=lambda f: f.__name__)
def test_same_model_gives_identical_svg(draw: Any) -> None:
    """Two runs of the same scenario would give report.html pictures that differ, breaking
    comparisons between runs."""
    assert draw(make_model()).svg == draw(make_model()).svg


@pytest.mark.parametrize("draw", DIAGRAMS, ids=lambda f: f.__name__)
def test_empty_model_still_draws_something(draw: Any) -> None:
    """A scenario with no routers, certificates or exchanges would break report.html instead of
    drawing empty pictures."""
    empty = make_model(routers=(), links=(), certificates=(), exchanges=(), waits=(),
                       timelines=(), states=(), transitions=())
    assert parse(draw(empty)).get("role") == "img"


@pytest.mark.parametrize("draw", DIAGRAMS, ids=lambda f: f.__name__)
def test_names_are_escaped(draw: Any) -> None:
    """A router or subject name with `<` or `&` would corrupt the report.html pictures or inject
    markup into the page."""
    nasty = "<r&1>"
    model = make_model()
    model = replace(
        model,
        routers=(*model.routers[:2], replace(model.routers[2], name=nasty)),
        links=(model.links[0], LinkFact("R2", nasty, 0.002, 0.0, (240.0,))),
        certificates=(*model.certificates[:2], replace(model.certificates[2], router=nasty,
                                                       subject=f"cn={nasty}\"'")),
        exchanges=(*model.exchanges[:3], exchange(nasty, "R2", 120.0)),
        timelines=(model.timelines[0], replace(model.timelines[1], server=nasty)),
        transitions=(*TABLE, Transition("enabled", nasty, "stay", ("enabled",))),
    )
    picture = draw(model)
    assert nasty not in picture.svg
    root = parse(picture)
    everything = text_of(root) + " ".join(v for el in root.iter() for v in el.attrib.values())
    assert nasty in everything


def test_one_time_format() -> None:
    """Every picture and table writes a moment as clock time plus elapsed, whole seconds."""
    assert [span(t) for t in (0, 1.5, 12, 240, 82.4, 3720, 93600)] == \
        ["0s", "1s", "12s", "4m", "1m22s", "1h2m", "1d2h"]
    start = parse_start("2024-01-06T20:57:00+00:00")
    assert moment(start, 82.4) == "20:58:22 (+1m22s)"
    assert moment(start, 93600) == "Jan 7 22:57:00 (+1d2h)"


# --------------------------------------------------------------------------- hierarchy


def test_hierarchy_shows_every_certificate_with_its_facts() -> None:
    """The report's certificate hierarchy would miss a certificate or show the wrong serial, key
    size, dates or MD5."""
    picture = hierarchy_svg(make_model())
    root = parse(picture)
    nodes = with_attr(root, "data-md5")
    assert [n.get("data-md5") for n in nodes] == [md5_of(1), md5_of(2), md5_of(3)]
    assert [n.get("data-serial") for n in nodes] == ["1", "2", "3"]
    text = text_of(root)
    for fact in ("ROOT@R1", "SUB@R3", "serial 0x3", "1024-bit", "2024-01-06", "2025-01-05",
                 "MD5 00000000 00000000", "subject hostname=R3"):
        assert fact in text
    assert not with_attr(root, "data-mark")


def test_hierarchy_marks_revoked_and_expired() -> None:
    """Revoked or expired certificates would look valid in the report's certificate hierarchy."""
    model = make_model()
    root_ca, sub, leaf = model.certificates
    extra = cert(4, "R4", "router", sub.key, name="SUB", expired=True)
    model = replace(model, certificates=(root_ca, sub, replace(leaf, revoked=True), extra))
    root = parse(hierarchy_svg(model))
    marks = {(el.get("data-md5"), m.get("data-mark")) for el in with_attr(root, "data-md5")
             for m in el.iter() if m.get("data-mark")}
    assert marks == {(md5_of(3), "revoked"), (md5_of(4), "expired")}
    flags = {el.get("data-md5"): (el.get("data-revoked"), el.get("data-expired"))
             for el in with_attr(root, "data-md5")}
    assert flags[md5_of(3)] == ("true", None) and flags[md5_of(4)] == (None, "true")
    assert "REVOKED" in text_of(root) and "EXPIRED" in text_of(root)


def many_routers(count: int = 60) -> ReportModel:
    model = make_model()
    root_ca, sub, _ = model.certificates
    names = [f"R{i}" for i in range(3, 3 + count)]
    leaves = tuple(cert(10 + i, name, "router", sub.key, name="SUB")
                   for i, name in enumerate(names))
    routers = (*model.routers[:2], *(RouterFact(n, f"10.1.{i // 250}.{i % 250 + 1}", {}, True)
                                     for i, n in enumerate(names)))
    exchanges = [exchange("R2", "R1", 1.0, "CA certificate", "GetCACert", None, None)]
    for i, name in enumerate(names):
        exchanges.append(exchange(name, "R2", 100.0 + i, "CA certificate", "GetCACert", None))
        polls = 3 if i == 40 else 1  # R43 is the busiest client
        for p in range(polls):
            exchanges.append(exchange(name, "R2", 200.0 + i + 60 * p, "PENDING",
                                      transaction=f"T{name}"))
    exchanges.append(exchange("R9", None, 50.0, "unresolved", "GetCACert", None, None))
    waits = tuple(Wait(n, "R2", f"T{n}", 200.0 + i, 400.0, False) for i, n in enumerate(names))
    links = tuple(LinkFact("R2", n, 0.002, 0.0) for n in names)
    return replace(model, routers=routers, links=(model.links[0], *links),
                   certificates=(root_ca, sub, *leaves), exchanges=tuple(exchanges),
                   waits=waits)


def test_hierarchy_groups_many_routers_under_one_ca() -> None:
    """With 60 routers under one CA the report's hierarchy would sprawl, or the group would not name
    every hidden router."""
    model = many_routers(60)
    picture = hierarchy_svg(model)
    root = parse(picture)
    assert picture.width <= 1200
    drawn = with_attr(root, "data-md5")
    groups = with_attr(root, "data-group")
    assert len(groups) == 1 and 4 <= len(drawn) - 2 <= 6
    (label, hidden), = picture.collapsed.items()
    assert groups[0].get("data-group") == label
    assert groups[0].get("data-hidden") == str(len(hidden))
    shown = {el.get("data-md5") for el in drawn}
    leaves = [c for c in model.certificates if c.role == "router"]
    assert sorted(hidden) == sorted(f"SUB@{c.router}" for c in leaves if c.md5 not in shown)
    assert len(hidden) + len(drawn) == len(model.certificates)
    tooltip = groups[0].find("{http://www.w3.org/2000/svg}title")
    assert tooltip is not None and "SUB@R62" in (tooltip.text or "")


def test_hierarchy_shows_marked_routers_before_grouping_the_rest() -> None:
    """A revoked router's certificate could be hidden in a group in the report's hierarchy instead
    of shown."""
    model = many_routers(20)
    certs = tuple(replace(c, revoked=True) if c.router == "R20" else c
                  for c in model.certificates)
    root = parse(hierarchy_svg(replace(model, certificates=certs)))
    assert md5_of(10 + 17) in {el.get("data-md5") for el in with_attr(root, "data-md5")}


# --------------------------------------------------------------------------- topology


def test_topology_draws_routers_links_and_outages() -> None:
    """The report's topology picture would miss routers, links, CA labels, latency or when links
    went down and up."""
    model = make_model()
    model = replace(model, links=(model.links[0],
                                  LinkFact("R2", "R3", 0.002, 0.0, (240.0, 400.0), (300.0,))))
    root = parse(topology_svg(model))
    assert [el.get("data-router") for el in with_attr(root, "data-router")] == ["R1", "R2", "R3"]
    links = {el.get("data-link"): el for el in with_attr(root, "data-link")}
    assert set(links) == {"R1--R2", "R2--R3"}
    assert links["R1--R2"].get("data-down") == ""
    assert links["R2--R3"].get("data-down") == "240.0,400.0"
    down_text = text_of(links["R2--R3"])
    assert "down 21:01:00 (+4m), up 21:02:00 (+5m)" in down_text
    assert "down 21:03:40 (+6m40s)" in down_text
    assert "2 ms" in text_of(links["R1--R2"])
    text = text_of(root)
    assert "10.0.0.3" in text and "CA" in text
    cas = {el.get("data-router"): el.get("data-ca") for el in with_attr(root, "data-router")}
    assert cas == {"R1": "ROOT", "R2": "SUB", "R3": None}


def test_topology_of_sixty_routers_fits_the_page() -> None:
    """The report's topology picture for 60 routers would be wider than the page or drop routers."""
    picture = topology_svg(many_routers(60))
    assert picture.width <= 1200
    assert len(with_attr(parse(picture), "data-router")) == 62


# --------------------------------------------------------------------------- sequence


def arrows(root: ET.Element) -> list[ET.Element]:
    return with_attr(root, "data-result")


def test_sequence_has_a_lane_per_router_and_an_arrow_per_exchange() -> None:
    """The report's SCEP sequence diagram would miss a router's lane or an exchange, or show wrong
    times and results."""
    model = make_model()
    root = parse(sequence_svg(model))
    assert [el.get("data-lane") for el in with_attr(root, "data-lane")] == ["R1", "R2", "R3"]
    drawn = [(a.get("data-client"), a.get("data-server"), a.get("data-result"), a.get("data-t"))
             for a in arrows(root)]
    assert drawn == [(e.client, e.server, e.result, f"{e.start:.3f}") for e in model.exchanges]
    text = text_of(root)
    assert "GetCACert \u2192 CA certificate" in text and "20:57:10 (+10s)" in text
    assert "GetCertInitial \u2192 SUCCESS" in text and "20:58:11 (+1m11s)" in text


def test_sequence_marks_failed_exchanges() -> None:
    """Refused, timed-out, unresolvable or HTTP-error exchanges would look successful in the
    report's sequence diagram."""
    model = make_model()
    model = replace(model, exchanges=(
        *model.exchanges,
        exchange("R3", "R2", 200.0, "refused", "GetCACert", None, None),
        exchange("R3", "R2", 230.0, "timeout", "GetCACert", None, None),
        exchange("R3", None, 260.0, "unresolved", "GetCACert", None, None),
        exchange("R3", "R2", 290.0, "http 404", "GetCACaps", None, None),
    ))
    root = parse(sequence_svg(model))
    failed = [a for a in arrows(root) if a.get("data-failed") == "true"]
    assert [a.get("data-result") for a in failed] == ["refused", "timeout", "unresolved",
                                                       "http 404"]
    for arrow in failed:
        assert any(el.tag.endswith("path") and el.get("stroke-width") == "2.5"
                   for el in arrow.iter()), "a failed exchange ends in a cross"
    text = text_of(root)
    for words in ("refused", "timed out", "unresolvable", "HTTP 404"):
        assert words in text
    assert failed[2].get("data-server") == ""


def test_sequence_shows_waits_and_quiet_gaps() -> None:
    """The report's sequence diagram would not show a router waiting for grant or mark the quiet
    gaps between exchanges."""
    root = parse(sequence_svg(make_model()))
    waits = with_attr(root, "data-wait")
    assert [(w.get("data-client"), w.get("data-start"), w.get("data-end"))
            for w in waits] == [("R2", "11.000", "71.000")]
    assert "waiting for grant" in text_of(root)
    assert re.search(r"\u2026 1m later", text_of(root))


def test_sequence_groups_sixty_routers_into_twelve_lanes() -> None:
    """With 60 routers the report's sequence diagram would be too wide, lose exchanges, or hide who
    sent grouped arrows."""
    model = many_routers(60)
    picture = sequence_svg(model)
    root = parse(picture)
    assert picture.width <= 1200
    lanes = [el.get("data-lane") for el in with_attr(root, "data-lane")]
    assert len(lanes) <= 12
    # Servers first, then the busiest clients (in scenario order), then everybody else.
    assert lanes[:2] == ["R1", "R2"] and {"R43", "R9"} <= set(lanes)
    (label, hidden), = picture.collapsed.items()
    assert lanes[-1] == label and label.startswith(f"{len(hidden)} other routers")
    assert set(hidden) | set(lanes[:-1]) == {e.client for e in model.exchanges} | {"R1"}
    assert not set(hidden) & set(lanes)
    # Every exchange is drawn: singly, or counted in a batch naming each client.
    drawn = [c for a in arrows(root) for c in (a.get("data-client") or "").split(",")]
    assert sorted(drawn) == sorted(e.client for e in model.exchanges)
    counts = [int(a.get("data-count", "1")) for a in arrows(root)]
    assert sum(counts) == len(model.exchanges) and max(counts) > 1
    assert len(arrows(root)) < len(model.exchanges)
    ys = sorted({float(line.get("y1", "0")) for a in arrows(root) for line in a.iter()
                 if line.tag.endswith("line")})
    assert min(b - a for a, b in zip(ys, ys[1:], strict=False)) >= 14
    # The other routers' arrows say which router sent them.
    assert "R60" in text_of(root)


# --------------------------------------------------------------------------- timeline & FSM


def test_timeline_bars_and_signals() -> None:
    """The report's certificate-server timeline would show the wrong states or miss `no shut` and
    other changes."""
    root = parse(timeline_svg(make_model()))
    segments = [(el.get("data-server"), el.get("data-state"), el.get("data-t"))
                for el in with_attr(root, "data-state") if "data-signal" not in el.attrib]
    assert segments == [("ROOT", "initial", "0.000"), ("ROOT", "enabled", "5.000"),
                        ("SUB", "initial", "0.000"), ("SUB", "check failed", "6.000"),
                        ("SUB", "enabled", "72.000")]
    changes = [(el.get("data-server"), el.get("data-signal"), el.get("data-t"))
               for el in with_attr(root, "data-signal")]
    assert changes == [("ROOT", "no shut", "5.000"), ("SUB", "no shut", "6.000"),
                       ("SUB", "cert configured", "72.000")]


def test_fsm_edges_come_from_the_transition_table() -> None:
    """The report's certificate-server state diagram would show edges that differ from what the
    simulator actually does."""
    model = make_model()
    root = parse(fsm_svg(model))
    assert {el.get("data-state") for el in with_attr(root, "data-state")} == set(STATES)
    edges = {(el.get("data-from"), el.get("data-to")): el.get("data-signals")
             for el in with_attr(root, "data-from")}
    expected = {(t.source, target) for t in TABLE for target in t.targets}
    assert set(edges) == expected
    assert edges[("check failed", "enabled")] == "time set"
    assert edges[("initial", "initial")] == "time set"
    # A new cell in the table is a new edge; nothing is hard-coded.
    extra = Transition("disabled", "reload", "restart", ("initial",))
    root = parse(fsm_svg(replace(model, transitions=(*TABLE, extra))))
    assert ("disabled", "initial") in {(el.get("data-from"), el.get("data-to"))
                                       for el in with_attr(root, "data-from")}


def test_fsm_aggregates_signals_per_edge() -> None:
    """The report's state diagram would draw duplicate edges instead of one edge listing every
    signal."""
    table = (Transition("a", "x", "go", ("b",)), Transition("a", "y", "go", ("b",)),
             Transition("b", "z", "stay", ("b",)))
    root = parse(fsm_svg(make_model(states=(), transitions=table)))
    edges = {(el.get("data-from"), el.get("data-to")): el.get("data-signals")
             for el in with_attr(root, "data-from")}
    assert edges == {("a", "b"): "x,y", ("b", "b"): "z"}


def test_sequence_folds_a_long_run_of_identical_polls() -> None:
    """A client polling is one arrow "×N, every …" whose row gives its first and last time."""
    polls = tuple(exchange("R3", "R2", 3600.0 * k, "PENDING", message="GetCertInitial")
                  for k in range(1, 11))
    short = tuple(exchange("R2", "R1", 5.0 + k, "PENDING") for k in range(3))
    root = parse(sequence_svg(make_model(exchanges=short + polls, duration=40000.0)))
    drawn = [(a.get("data-client"), a.get("data-count")) for a in arrows(root)]
    assert drawn == [("R2,R2,R2", "3"), (",".join(["R3"] * 10), "10")]
    text = text_of(root)
    assert "GetCertInitial \u2192 PENDING \u00d710, every 1h" in text
    assert "21:57:00 (+1h)" in text and "to Jan 7 06:57:00 (+10h)" in text


def test_timeline_keeps_a_flapping_server_short() -> None:
    """A certificate server that flaps many times would make the report's timeline huge with
    overlapping labels."""
    states = ("enabled", "check failed")
    changes = tuple(StateChange(10.0 + k, states[k % 2], states[(k + 1) % 2], "http server off",
                                None) for k in range(30))
    model = make_model(timelines=(ServerTimeline("R1", "ROOT", changes, "enabled"),))
    picture = timeline_svg(model)
    root = parse(picture)
    assert len(with_attr(root, "data-signal")) == 30  # every change keeps its tick
    labels = with_attr(root, "data-label")
    assert sum(int(el.get("data-label", "0")) for el in labels) == 30
    assert len(labels) <= 3 and picture.height < 250


def test_hierarchy_of_a_deep_chain_fits_the_page() -> None:
    """A long chain of subordinate CAs would make the report's hierarchy wider than the page or drop
    a level."""
    chain = [cert(1, "R1", "root", None)]
    for n in range(2, 8):
        chain.append(cert(n, f"R{n}", "sub-ca", chain[-1].key))
    picture = hierarchy_svg(make_model(certificates=tuple(chain)))
    assert picture.width <= 1200
    assert len(with_attr(parse(picture), "data-md5")) == 7
