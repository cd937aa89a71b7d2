"""`Router.config_modified` compares the saved configuration with the running one line by
line and stops at the first difference, instead of rendering the whole running
configuration first. It must give the answer the whole comparison gives in every case."""

from __future__ import annotations

from routerkit import Lab

from sim.router import show
from sim.router.router import Router


def _slow_answer(router: Router, saved: str) -> bool:
    """The comparison as first written: render everything, then compare."""
    return saved == "\n".join(show.running_config(router)) + "\n"


def _variants(text: str) -> list[str]:
    """The text, and texts that differ from it at the start, middle and end, by a character,
    a line, a missing or extra newline, or nothing at all."""
    lines = text.split("\n")
    middle = len(lines) // 2
    return [
        text, "", "\n", text[:-1], text + "\n", text + "x", text[:-2] + "\n",
        text[:len(text) // 2], "x" + text, text.replace("!", "?", 1),
        "\n".join(lines[:middle] + lines[middle + 1:]),
        "\n".join(lines[:middle] + ["extra"] + lines[middle:]),
        "\n".join(lines[:middle] + [lines[middle] + " "] + lines[middle + 1:]),
        text.replace("\n", "\r\n"),
    ]


def test_the_early_stopping_check_agrees_with_the_whole_comparison() -> None:
    """On a granted enrollment a router records whether its configuration had unsaved
    changes (what `reload` then asks about, and whether the new certificate is saved); a
    wrong answer would lose or keep a trustpoint across `reload` against what IOS does."""
    lab = Lab(seed=5)
    router = lab.router("R1", "10.0.0.1", "ip domain name example.com\nip host ca 10.0.0.9")
    steps = [
        "",
        "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
        "enrollment url http://10.0.0.9\nend",
        "enable\nwrite memory",
        "enable\nconfigure terminal\ncrypto key generate rsa general-keys modulus 512\nend",
        "enable\nconfigure terminal\nno ip domain lookup\nend",
        "enable\nwrite memory",
    ]
    for step in steps:
        if step:
            lab.type(router, step)
        running = "\n".join(show.running_config(router)) + "\n"
        saved = (router.nvram.read("startup-config") or b"").decode()
        for text in [*_variants(running), saved, *_variants(saved)]:
            assert show.running_config_is(router, text) == _slow_answer(router, text), \
                (step, text)
        assert router.config_modified() == (saved != running), step
