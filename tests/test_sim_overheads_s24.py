"""Per-event and per-request shortcuts of the simulation (issue 13): a device's used space
kept as a running total, and a SCEP query split without unquoting what has nothing to
unquote, and a router's CertRep opened with the signer name it kept from its request.
Each must give exactly what the plain way gives."""

from __future__ import annotations

import random
from urllib.parse import unquote

import pytest
from test_der_once import Lab

from sim.pki import scep
from sim.pki.deferred import Deferred
from sim.pki.scep import envelope
from sim.pki.scep_http import query_parameters
from sim.router.nvram import Flash, LocalFileSystem, Nvram, NvramFull


def _summed(device: LocalFileSystem) -> int:
    """The plain way: the length of every file, added up."""
    return sum(device.size_of(name) or 0 for name in device)


def test_used_space_running_total_matches_the_sum_of_the_files() -> None:
    """`dir nvram:`'s free bytes and the `Not enough space on device` refusal come from
    the used total; if the running total drifted from the files' sizes after writes,
    overwrites, deletes, erases, refused writes or deferred files being read, `dir` would
    print a wrong free figure and a CA would be refused (or allowed) a write IOS would
    allow (or refuse)."""
    rng = random.Random(13)
    device = Nvram(size=4000)
    names = [f"f{i}" for i in range(8)]
    for step in range(2000):
        action = rng.random()
        name = rng.choice(names)
        if action < 0.55:
            size = rng.randrange(0, 900)
            data: bytes | Deferred = (
                Deferred(size, lambda size=size: b"d" * size) if rng.random() < 0.3
                else bytes(rng.randrange(256) for _ in range(size)))
            before = _summed(device)
            try:
                device.write(name, data)
            except NvramFull:
                # Refused exactly when the plain sum says it would not fit.
                assert before - (device.size_of(name) or 0) + size > device.size
                assert _summed(device) == before
        elif action < 0.75:
            device.read(name)  # resolves a deferred file in place
        elif action < 0.95:
            device.delete(name)
        else:
            device.erase()
        assert device.used == _summed(device), f"step {step}"
        assert device.free == device.size - _summed(device)


def test_flash_listing_free_bytes_follow_the_files() -> None:
    """The last line of `dir flash:` (`N bytes total (M bytes free)`) must count every
    file still there, after a delete too; a stale total would misreport free space."""
    flash = Flash(size=10_000)
    flash.write("ca/ca.ser", b"x" * 300)
    flash.write("ca/ca.crl", b"y" * 200)
    flash.write("ca/ca.ser", b"x" * 100)
    assert flash.delete("ca/ca.crl") is True
    assert flash.delete("ca/ca.crl") is False
    assert flash.listing()[-1] == "10000 bytes total (9900 bytes free)"


@pytest.mark.parametrize("query", [
    "operation=GetCACert&message=ca",
    "operation=PKIOperation&message=MIIB%2Bx%2Fy%3D%3D",
    "operation=PKIOperation&message=MIIB+x/y==",
    "operation%3D=a%26b&=empty&noval&operation=second&message=%zz%4",
    "",
    "&&operation=GetCACaps&",
    "op%65ration=GetCACert&message=%E2%82%AC",
])
def test_query_parameters_match_unquoting_every_part(query: str) -> None:
    """A SCEP GET's `operation=` and base64 `message=` must read the same whether or not
    they hold `%` escapes; if skipping `unquote` for plain parts changed any name or
    value, a router's request would be refused or misread by the CA."""
    plain: dict[str, str] = {}
    for part in query.split("&"):
        name, _, value = part.partition("=")
        if name:
            plain.setdefault(unquote(name), unquote(value))
    assert query_parameters(query) == plain


def test_envelope_opened_with_a_kept_recipient_name_as_without() -> None:
    """An enrolling router keeps its signer's IssuerAndSerialNumber from its request and
    opens the CertRep with it; the envelope must open to the same bytes as when the name
    is read from the certificate, through both readers (the one-pass reader and the
    general one, which a peer's envelope of another shape takes), and one addressed to
    someone else must still be refused. If not, a router's certificate would not install
    (or a reply not meant for it would)."""
    lab = Lab()
    named = scep.recipient_named(lab.signer)
    for cipher in ("des", "des3", "aes128"):
        sealed = envelope.build_envelope(b"reply", [lab.signer], cipher,
                                         random.Random(2).randbytes)
        plain = scep.decrypt_envelope(sealed, lab.signer, lab.key)
        assert plain == b"reply"
        assert scep.decrypt_envelope(sealed, lab.signer, lab.key, named=named) == plain
        general = pytest.MonkeyPatch()
        general.setattr(envelope, "_usual_envelope", lambda _enveloped: None)
        try:
            assert scep.decrypt_envelope(sealed, lab.signer, lab.key, named=named) == plain
        finally:
            general.undo()
    other = envelope.build_envelope(b"reply", [lab.ca], "des", random.Random(2).randbytes)
    with pytest.raises(scep.ScepError):
        scep.decrypt_envelope(other, lab.signer, lab.key, named=named)
