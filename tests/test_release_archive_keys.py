"""Per release: `database archive pkcs12|pem password PW` and the RSA modulus limits.

cisco-cs.md 3 and 5: with an archive password the first `no shutdown` asks no passphrase
and prints `% Exporting Certificate Server signing certificate and keys...` (IOSv: then a
blank line, then `% Certificate Server enabled.` [V T-17]). cisco-client-docs.md 1.1/1.5:
12.x generates 360-2048-bit keys, 15.1(1)T and IOS-XE up to 4096.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from sim.lab import Lab
from sim.router import password7

RELEASES = ["12.3(14)T", "15.x", "XE"]
INVALID = "% Invalid input detected at '^' marker."
EXPORTING = "% Exporting Certificate Server signing certificate and keys..."


def _ca(release: str, seed: int = 3) -> Lab:
    lab = Lab(seed=seed)
    lab.add_router("ca", "10.0.0.1", "ip http server", release=release)
    return lab


def _in_cs(lab: Lab, lines: str, answers: list[str] | None = None) -> list[str]:
    return lab.type("ca", "enable\nconfigure terminal\ncrypto pki server CA\n" + lines
                    + "end\n", answers=answers or [])


def _archive_line(lab: Lab) -> list[str]:
    return [line for line in lab.show("ca", "show running-config") if "archive" in line]


@pytest.mark.parametrize("release", RELEASES)
def test_an_archive_password_replaces_the_passphrase_prompt(release: str) -> None:
    """With `database archive pkcs12 password`, `no shutdown` would still prompt, print the export
    lines wrongly, or write an unreadable `CA.p12`."""
    lab = _ca(release)
    out = _in_cs(lab, "database archive pkcs12 password cisco123\nno shutdown\n")
    assert not any("passphrase" in line or line == "Password:" for line in out)
    assert EXPORTING in out
    enabled = out.index("% Certificate Server enabled.")
    assert enabled > out.index(EXPORTING)
    # IOSv puts a blank line between the export and `enabled` (T-17); the 12.3(14)T
    # feature guide shows the export line followed by the next message.
    blank = out[out.index(EXPORTING) + 1] == ""
    assert blank is (release != "12.3(14)T")
    assert out.count("") == 1  # one blank line, also when the key was generated here
    router = lab.router("ca")
    data = router.nvram.read("CA.p12")
    assert data is not None
    key, cert, _ = pkcs12.load_key_and_certificates(data, b"cisco123")
    assert isinstance(key, rsa.RSAPrivateKey) and cert is not None
    pair = router.running.keys.get("CA")
    assert pair is not None
    assert key.private_numbers() == pair.key.private_numbers()
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(data, b"cisco124")
    assert _archive_line(lab) == [
        f" database archive pkcs12 password 7 {password7.encode('cisco123')}"]


def test_the_archive_password_survives_write_memory_and_reload() -> None:
    """A `database archive pem password` would show in clear text, be lost on reload, or encrypt the
    archived key with the wrong password."""
    lab = _ca("15.x")
    _in_cs(lab, "database archive pem password Secret-99\n")
    before = _archive_line(lab)
    assert before[0].startswith(" database archive pem password 7 ")
    assert "Secret-99" not in "\n".join(lab.show("ca", "show running-config"))
    lab.type("ca", "write memory\n")
    lab.reload("ca")
    lab.run(120)  # the boot replays the saved configuration
    assert _archive_line(lab) == before
    # The password read back from type 7 is the one the archive gets.
    out = _in_cs(lab, "no shutdown\n")
    assert EXPORTING in out and "Password:" not in out
    pem = lab.router("ca").nvram.read("CA.pem")
    assert pem is not None
    start = pem.index(b"-----BEGIN RSA PRIVATE KEY-----")
    serialization.load_pem_private_key(pem[start:], password=b"Secret-99")


def test_a_type_7_password_is_typed_back_and_a_bad_one_refused() -> None:
    """Pasting a `password 7` archive line back would not work, or a garbled one would be accepted
    without `% Invalid encrypted password.`."""
    lab = _ca("XE")
    hidden = password7.encode("cisco123")
    out = _in_cs(lab, "database archive pkcs12 password 7 ZZ12\n"
                      f"database archive pkcs12 password 7 {hidden}\nshow\n")
    assert "% Invalid encrypted password." in out
    assert f" database archive pkcs12 password 7 {hidden}" in out  # cs-server `show`
    out = _in_cs(lab, "no shutdown\n")
    data = lab.router("ca").nvram.read("CA.p12")
    assert EXPORTING in out and data is not None
    pkcs12.load_key_and_certificates(data, b"cisco123")


def test_type_7_round_trips_and_matches_ios() -> None:
    """Type 7 passwords in the running-config would not match real IOS's encoding or would not
    decode back."""
    assert password7.decode("0822455D0A16") == "cisco"  # the well-known IOS example
    for text in ["cisco123", "Secret-99", "a" * 60]:
        assert password7.decode(password7.encode(text)) == text
    for bad in ["", "08", "0822455D0A1", "9922455D0A16", "08ZZ", "0841"]:
        assert password7.decode(bad) is None


@pytest.mark.parametrize("release", ["15.x", "12.3(14)T"])
def test_no_database_archive_drops_the_password_and_asks_again(release: str) -> None:
    """After `no database archive`, `no shutdown` would still skip the passphrase prompt or still
    write a `CA.p12` archive."""
    lab = _ca(release)
    out = _in_cs(lab, "database archive pkcs12 password cisco123\nno database archive\n"
                      "no shutdown\n", ["cisco123", "cisco123"])
    assert "% Please enter a passphrase to protect the private key" in out
    assert EXPORTING not in out
    assert not lab.router("ca").nvram.exists("CA.p12")
    assert all("password" not in line for line in _archive_line(lab))


@pytest.mark.parametrize("release", ["15.x", "XE"])
def test_the_later_releases_offer_4096_bit_keys(release: str) -> None:
    # One 4096-bit key per test (same seed, router and label: generated once per session).
    """On 15.x or XE, 4096-bit keys would be refused or the modulus prompt would show the wrong
    range."""
    lab = _ca(release)
    out = lab.type("ca", "enable\nconfigure terminal\ncrypto key generate rsa label K\n",
                   answers=["4096"])
    assert "Choose the size of the key modulus in the range of 360 to 4096 for your" in out
    assert "% Generating 4096 bit RSA keys, keys will be non-exportable..." in out
    pair = lab.router("ca").running.keys.get("K")
    assert pair is not None and pair.bits == 4096
    out = lab.type("ca", "crypto key generate rsa label L modulus 5000\n"
                         "crypto pki trustpoint T\nrsakeypair T 4096\nend\n")
    assert INVALID in out  # the grammar's own range, 360-4096
    assert " rsakeypair T 4096" in lab.show("ca", "show running-config")


def test_12_3_keeps_keys_at_2048_bits() -> None:
    """A 12.3(14)T router would accept keys over 2048 bits, or print the wrong modulus range, error
    or `^` marker."""
    lab = _ca("12.3(14)T")
    out = lab.type("ca", "enable\nconfigure terminal\ncrypto key generate rsa label K\n",
                   answers=["4096"])
    assert "Choose the size of the key modulus in the range of 360 to 2048 for your" in out
    assert out[-1] == "% Invalid modulus size; use a value from 360 to 2048."
    out = lab.type("ca", "crypto key generate rsa label K modulus 4096\n")
    line = "crypto key generate rsa label K modulus 4096"
    assert out[-3:] == ["ca(config)#" + line,
                        " " * len("ca(config)#" + line[:-4]) + "^", INVALID]
    out = lab.type("ca", "crypto pki trustpoint T\nrsakeypair T 3072\nend\n")
    assert INVALID in out
    router = lab.router("ca")
    assert router.running.keys.get("K") is None
    assert router.running.trustpoints["T"].rsakeypair is None
