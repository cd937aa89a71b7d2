"""report.html as a browser draws it: headless Chromium at 1280x720, the projector size.

Two pages: chained-subordinates (three CA levels, every picture has something in it) and a
generated run of 60 enrolling routers, where the pictures must group lanes and nodes to
stay readable. Chromium only ever opens `file://` pages; the report forbids fetches itself
(Content-Security-Policy), and the flags turn off Chromium's own background traffic.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.report import write_report
from sim.scenario.loader import load_scenario, load_scenario_text
from sim.scenario.model import Scenario
from sim.scenario.output import write_output
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
WIDTH, HEIGHT = 1280, 720
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--window-size={WIDTH},{HEIGHT}")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless rendering needs /usr/bin/chromium (Debian package `chromium`; "
           ".ci/run installs it)")

ENROLLING = 60


def many_routers(count: int = ENROLLING) -> str:
    """A root CA granting automatically and `count` routers enrolling with it, each on its
    own link, the way chained-subordinates.yaml enrolls r0."""
    lines = [
        "name: many-routers",
        f"description: A root CA with grant auto and {count} routers enrolling with it.",
        "seed: 60",
        "start: 2005-01-06T21:00:00Z",
        "duration: 6m",
        "routers:",
        "  root:",
        "    address: 10.0.0.1",
        "    config: |",
        "      hostname root",
        "      ip http server",
    ]
    for i in range(1, count + 1):
        lines += [f"  r{i}:", f"    address: 10.1.{i // 200}.{i % 200 + 1}",
                  f"    config: hostname r{i}"]
    lines.append("links:")
    lines += [f"  - {{endpoints: [root, r{i}], latency: 1ms}}" for i in range(1, count + 1)]
    lines += [
        "events:",
        "  - at: 5s",
        "    router: root",
        "    cli: |",
        "      enable",
        "      configure terminal",
        "      crypto pki server root",
        "      grant auto",
        "      no shutdown",
        "      end",
        "    input: [rootpass1, rootpass1]",
    ]
    for i in range(1, count + 1):
        lines += [
            f"  - at: {60 + i}s",
            f"    router: r{i}",
            "    cli: |",
            "      enable",
            "      configure terminal",
            "      crypto pki trustpoint ca",
            "      enrollment url http://10.0.0.1",
            "      exit",
            "      crypto pki authenticate ca",
            "      crypto pki enroll ca",
            "      end",
            '    input: ["yes", challenge1, challenge1, "no", "no", "yes"]',
        ]
    lines += ["expect:", "  - {router: root, server_state: enabled}",
              f"  - {{router: r{count}, certificate_verifies: ca}}"]
    return "\n".join(lines) + "\n"


@dataclass
class Rendered:
    folder: Path
    html: str
    dom: str
    screenshot: Path


def render(scenario: Scenario, tmp: Path) -> Rendered:
    out = tmp / "out"
    write_output(run_scenario(scenario), out)
    page = write_report(out)[0]
    shot = tmp / "shot.png"
    chromium(page, tmp, f"--screenshot={shot}")
    dom = chromium(page, tmp, "--dump-dom").stdout
    return Rendered(out, page.read_text(encoding="utf-8"), dom, shot)


def chromium(page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp / 'profile'}", *extra, page.as_uri()],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.fixture(scope="module")
def chained(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    scenario = load_scenario(ROOT / "scenarios" / "hierarchy" / "chained-subordinates.yaml")
    return render(scenario, tmp_path_factory.mktemp("chained"))


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    scenario = load_scenario_text(many_routers(), "many-routers.yaml")
    return render(scenario, tmp_path_factory.mktemp("crowd"))


def scroll_width(dom: str) -> int:
    """The page records `documentElement.scrollWidth` with every `<details>` open."""
    found = re.search(r'<html[^>]*\bdata-scroll-width="(\d+)"', dom)
    assert found, "the page's script did not record its width"
    return int(found.group(1))


def assert_not_blank(screenshot: Path) -> None:
    image_module = pytest.importorskip("PIL.Image", reason="pillow checks the screenshot")
    with image_module.open(screenshot) as image:
        assert image.size == (WIDTH, HEIGHT)
        rgb = image.convert("RGB")
        colours = rgb.getcolors(maxcolors=WIDTH * HEIGHT) or []
        white = sum(n for n, colour in colours if colour == (255, 255, 255))
    assert len(colours) > 50, f"only {len(colours)} colours: a blank page?"
    assert white < 0.97 * WIDTH * HEIGHT, "the first screen is all white"


def test_chained_subordinates_renders_and_fits_1280px(chained: Rendered) -> None:
    """report.html for a three-level CA chain would show blank or scroll sideways on a 1280-pixel
    projector."""
    assert_not_blank(chained.screenshot)
    assert scroll_width(chained.dom) <= WIDTH


def test_sixty_routers_render_grouped_and_fit_1280px(crowd: Rendered) -> None:
    """report.html for 60 routers would not group lanes and nodes, or would scroll sideways on a
    projector."""
    assert_not_blank(crowd.screenshot)
    assert scroll_width(crowd.dom) <= WIDTH
    for section in ("hierarchy", "sequence"):
        part = crowd.html.split(f'<section id="{section}">')[1].split("</section>")[0]
        groups = re.findall(r'<details class="collapsed-group" data-group="[^"]+">\s*'
                            r'<summary>[^<]+</summary>\s*<p class="names">([^<]+)</p>', part)
        assert groups, f"the {section} picture grouped nothing with {ENROLLING} routers"
        listed = {name.rpartition("@")[2] for names in groups for name in names.split(", ")}
        assert listed and listed <= {f"r{i}" for i in range(1, ENROLLING + 1)}
