"""RSA key commands (issue 11, "Keys"): `crypto key generate rsa` with its options in any
order and its dialogues, `crypto key zeroize rsa`, `show crypto key mypubkey rsa`, and
`crypto key export|import rsa ... pem` with real encrypted PEM that openssl reads and
writes. Facts: cisco-client-docs.md section 1."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sim.lab import Lab
from sim.pki import x509util
from sim.router import pem_legacy
from sim.router.cli_help import help_for
from sim.router.console import Mode
from sim.router.keystore import KeyPair

CONF = "enable\nconfigure terminal\n"
OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")


def _lab(release: str = "12.3(14)T") -> Lab:
    lab = Lab(seed=5)
    lab.add_router("r1", "10.0.0.1", "ip domain name example.com", release=release)
    lab.type("r1", CONF)
    return lab


def _after(out: list[str], command: str) -> list[str]:
    """What the console printed after the echo of `command`."""
    echo = next(i for i, line in enumerate(out) if line.endswith("#" + command))
    return out[echo + 1:]


def _pair(lab: Lab, label: str, router: str = "r1") -> KeyPair:
    pair = lab.router(router).running.keys.get(label)
    assert pair is not None, f"no key pair {label}"
    return pair


def _show_keys(lab: Lab, label: str = "") -> list[str]:
    return lab.show("r1", f"show crypto key mypubkey rsa {label}".strip())


def _key_data(shown: list[str], start: int) -> bytes:
    """The DER of the `Key Data:` block that follows line `start`."""
    first = shown.index(" Key Data:", start) + 1
    rows = []
    for row in shown[first:]:
        if not row.startswith("  "):
            break
        rows.append(row)
    return bytes.fromhex("".join("".join(r.split()) for r in rows))


# -- generate ---------------------------------------------------------------------------------
@pytest.mark.parametrize("options", [
    "modulus 512 exportable label k1",
    "exportable label k1 modulus 512",
    "label k1 general-keys modulus 512 exportable",
    "general-keys exportable modulus 512 label k1",
])
def test_generate_takes_its_options_in_any_order(options: str) -> None:
    """`crypto key generate rsa` with `label`, `modulus` and `exportable` in another order would be
    refused or make a different key."""
    lab = _lab()
    command = f"crypto key generate rsa {options}"
    out = _after(lab.type("r1", command), command)
    assert out == ["The name for the keys will be: k1", "% The key modulus size is 512 bits",
                   "% Generating 512 bit RSA keys ...[OK]"]
    pair = lab.router("r1").running.keys.get("k1")
    assert pair is not None and pair.bits == 512 and pair.exportable and not pair.usage_keys


def test_an_option_given_twice_is_invalid_input() -> None:
    """`crypto key generate rsa` with an option typed twice would make a key instead of the caret
    and `% Invalid input`."""
    lab = _lab()
    out = lab.type("r1", "crypto key generate rsa label a modulus 512 label b")
    assert out[-2:] == [" " * len("r1(config)#crypto key generate rsa label a modulus 512 ")
                        + "^", "% Invalid input detected at '^' marker."]
    assert lab.router("r1").running.keys.labels() == []


def test_a_modulus_above_the_release_range_is_refused_where_it_was_typed() -> None:
    """A modulus above the release's limit would make a key, or the `% Invalid input` caret would
    point at the wrong word."""
    lab = _lab()
    out = lab.type("r1", "crypto key generate rsa modulus 4096 label big")
    caret = out[-2]
    assert caret == " " * len("r1(config)#crypto key generate rsa modulus ") + "^"
    assert lab.router("r1").running.keys.get("big") is None
    out = lab.type("r1", "crypto key generate rsa label mod mod 04096")
    assert out[-2] == " " * len("r1(config)#crypto key generate rsa label mod mod ") + "^"
    assert lab.router("r1").running.keys.labels() == []


@pytest.mark.parametrize(("release", "largest", "done"), [
    ("12.3(14)T", 2048, ["% Generating 512 bit RSA keys ...[OK]"]),
    ("15.x", 4096, ["% Generating 512 bit RSA keys, keys will be non-exportable...",
                    "[OK] (elapsed time was 0 seconds)",
                    "Jan  6 21:00:09.150: %SSH-5-ENABLED: SSH 1.99 has been enabled"]),
])
def test_without_modulus_the_size_is_asked_in_the_release_s_range(
        release: str, largest: int, done: list[str]) -> None:
    """`crypto key generate rsa` without a modulus would not ask "How many bits" with the release's
    own range."""
    lab = _lab(release)
    command = "crypto key generate rsa"
    out = _after(lab.type("r1", command, [""]), command)
    assert out == ["The name for the keys will be: r1.example.com",
                   f"Choose the size of the key modulus in the range of 360 to {largest} for "
                   "your",
                   "  General Purpose Keys. Choosing a key modulus greater than 512 may take",
                   "  a few minutes.", "", "How many bits in the modulus [512]:", *done]
    assert _pair(lab, "r1.example.com").bits == 512


def test_usage_keys_ask_a_size_for_each_key_and_make_two_pairs() -> None:
    """`usage-keys` would not ask a size for the signature and encryption keys, or `show crypto key`
    would list them wrongly."""
    lab = _lab()
    command = "crypto key generate rsa usage-keys label u1"
    out = _after(lab.type("r1", command, ["512", "768"]), command)
    assert out == [
        "The name for the keys will be: u1",
        "Choose the size of the key modulus in the range of 360 to 2048 for your",
        "  Signature Keys. Choosing a key modulus greater than 512 may take",
        "  a few minutes.", "", "How many bits in the modulus [512]: 512",
        "% Generating 512 bit RSA keys ...[OK]", "",
        "Choose the size of the key modulus in the range of 360 to 2048 for your",
        "  Encryption Keys. Choosing a key modulus greater than 512 may take",
        "  a few minutes.", "", "How many bits in the modulus [512]: 768",
        "% Generating 768 bit RSA keys ...[OK]"]
    pair = lab.router("r1").running.keys.get("u1")
    assert pair is not None and pair.encryption_key is not None
    assert (pair.key.key_size, pair.encryption_key.key_size) == (512, 768)
    shown = _show_keys(lab, "u1")
    signature, encryption = (i for i, line in enumerate(shown) if line == "Key name: u1")
    assert shown[signature + 1] == " Usage: Signature Key"
    assert shown[encryption + 1] == " Usage: Encryption Key"
    assert _key_data(shown, signature) == x509util.public_key_der(pair.key)
    assert _key_data(shown, encryption) == x509util.public_key_der(pair.encryption_key)


def test_replacing_a_key_asks_first_and_no_keeps_it() -> None:
    """Generating a key under an existing label would replace it without asking, or answering `no`
    would not keep it."""
    lab = _lab()
    lab.type("r1", "crypto key generate rsa label k modulus 512")
    old = _pair(lab, "k")
    command = "crypto key generate rsa modulus 512 label k"
    out = _after(lab.type("r1", command, ["no"]), command)
    assert out == ["% You already have RSA keys defined named k.",
                   "% Do you really want to replace them? [yes/no]: no"]
    assert lab.router("r1").running.keys.get("k") is old
    out = _after(lab.type("r1", command, ["yes"]), command)
    assert out[1:3] == ["% Do you really want to replace them? [yes/no]: yes",
                        "The name for the keys will be: k"]
    assert _pair(lab, "k").key is not old.key


# -- show -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("release", "header"), [
    ("12.3(14)T", []),
    ("XE", ["Key type: RSA KEYS", " Storage Device: not specified"]),
])
def test_show_mypubkey_names_usage_exportability_and_key_data(release: str,
                                                               header: list[str]) -> None:
    """`show crypto key mypubkey rsa` would get the header, usage, exportability or Key Data hex
    wrong for a release."""
    lab = _lab(release)
    lab.type("r1", "crypto key generate rsa label k1 modulus 512\n"
                   "crypto key generate rsa label k2 modulus 512 exportable")
    shown = _show_keys(lab)
    k1 = shown.index("Key name: k1")
    assert shown[k1 - 1].startswith("% Key pair was generated at: 21:00:")
    assert shown[k1 + 1:k1 + 4 + len(header)] == [*header, " Usage: General Purpose Key",
                                                  " Key is not exportable.", " Key Data:"]
    rows = shown[k1 + 4 + len(header):k1 + 7 + len(header)]
    assert all(row.startswith("  ") and len(row.split()) <= 8 for row in rows)
    assert rows[0].split()[:2] == ["305C300D", "06092A86"]  # a 512-bit SubjectPublicKeyInfo
    assert _key_data(shown, k1) == x509util.public_key_der(_pair(lab, "k1").key)
    assert shown[shown.index("Key name: k2") + 2 + len(header)] == " Key is exportable."
    only = _show_keys(lab, "k2")
    assert "Key name: k2" in only and "Key name: k1" not in only


# -- zeroize -----------------------------------------------------------------------------------
def _enrolled_pair() -> Lab:
    """A CA and a client r1 holding a router certificate for its default key."""
    lab = Lab(seed=5)
    lab.add_router("ca", "10.0.0.1", "ip http server\nip domain name example.com")
    lab.add_router("r1", "10.0.0.2", "ip domain name example.com")
    lab.link("ca", "r1")
    lab.type("ca", CONF + "crypto pki server ca\ngrant auto\nno shutdown\nend",
             ["cisco123", "cisco123"])
    lab.type("r1", CONF + "crypto key generate rsa label spare modulus 512\n"
                          "crypto pki trustpoint ca\nenrollment url http://10.0.0.1\nexit\n"
                          "crypto pki authenticate ca\ncrypto pki enroll ca",
             ["yes", "challenge1", "challenge1", "no", "no", "yes"])
    lab.run(120)
    assert lab.router("r1").running.trustpoints["ca"].id_cert is not None
    return lab


def test_zeroize_a_label_asks_then_removes_the_key_and_its_router_certificate() -> None:
    """`crypto key zeroize rsa LABEL` would not ask first, or leave the router certificate made with
    that key."""
    lab = _enrolled_pair()
    r1 = lab.router("r1")
    command = "crypto key zeroize rsa r1.example.com"
    out = _after(lab.type("r1", command, ["no"]), command)
    assert out == ["% Keys to be removed are named r1.example.com.",
                   "% All router certs issued using these keys will also be removed.",
                   "Do you really want to remove these keys? [yes/no]: no"]
    assert r1.running.keys.get("r1.example.com") is not None
    lab.type("r1", command, ["yes"])
    assert r1.running.keys.labels() == ["spare"]
    tp = r1.running.trustpoints["ca"]
    assert tp.id_cert is None and tp.ca_cert is not None
    shown = lab.show("r1", "show crypto pki certificates")
    assert "Certificate" not in shown and "CA Certificate" in shown
    out = lab.type("r1", "crypto key zeroize rsa nosuch")
    assert out[-1] == "% RSA keypair nosuch is not present."


def test_zeroize_without_a_label_removes_every_key() -> None:
    """`crypto key zeroize rsa` without a label would not remove every key, or print the wrong
    message when none exist."""
    lab = _lab()
    lab.type("r1", "crypto key generate rsa label a modulus 512\n"
                   "crypto key generate rsa label b modulus 512")
    out = _after(lab.type("r1", "crypto key zeroize rsa", ["yes"]), "crypto key zeroize rsa")
    assert out[0] == "% All RSA keys will be removed."
    assert lab.router("r1").running.keys.labels() == []
    assert _show_keys(lab) == []
    assert lab.type("r1", "crypto key zeroize rsa")[-1] == "% No RSA keys are defined."


def test_zeroize_never_takes_the_key_of_a_running_certificate_server() -> None:
    """`crypto key zeroize rsa` on the CA would delete the key its running certificate server signs
    with."""
    lab = _enrolled_pair()
    ca = lab.router("ca")
    key = ca.running.keys.get("ca")
    out = lab.type("ca", "configure terminal\ncrypto key zeroize rsa", ["yes"])
    assert out[-2:] == ["% The key pair ca is in use by the certificate server ca.",
                        "% Remove the certificate server first ('no crypto pki server ca')."]
    assert ca.running.keys.get("ca") is key


# -- export ------------------------------------------------------------------------------------
def _pem_blocks(lines: list[str]) -> dict[str, bytes]:
    """PEM blocks printed on the console, by their BEGIN label."""
    blocks: dict[str, bytes] = {}
    current: list[str] | None = None
    for line in lines:
        if line.startswith("-----BEGIN "):
            current = [line]
        elif current is not None:
            current.append(line)
            if line.startswith("-----END "):
                blocks[current[0][11:-5]] = ("\n".join(current) + "\n").encode()
                current = None
    return blocks


def _openssl_modulus(path: Path, passphrase: str, *extra: str) -> str:
    assert OPENSSL is not None
    done = subprocess.run([OPENSSL, "rsa", *extra, "-in", str(path), "-passin",
                           f"pass:{passphrase}", "-noout", "-modulus"],
                          capture_output=True, text=True, check=False, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().removeprefix("Modulus=")


@needs_openssl
def test_export_to_the_terminal_prints_pem_that_openssl_reads(tmp_path: Path) -> None:
    """`crypto key export rsa ... pem terminal` would print PEM that openssl cannot decrypt or that
    holds a different key."""
    lab = _lab()
    lab.type("r1", "crypto key generate rsa label k1 modulus 512 exportable")
    command = "crypto key export rsa k1 pem terminal 3des cisco123"
    out = _after(lab.type("r1", command), command)
    assert out[:4] == ["% Key name: k1", "   Usage: General Purpose Key", "Key data:",
                       "-----BEGIN PUBLIC KEY-----"]
    blocks = _pem_blocks(out)
    assert list(blocks) == ["PUBLIC KEY", "RSA PRIVATE KEY"]
    private = blocks["RSA PRIVATE KEY"].decode().splitlines()
    assert private[1] == "Proc-Type: 4,ENCRYPTED"
    assert private[2].startswith("DEK-Info: DES-EDE3-CBC,") and private[3] == ""
    key = _pair(lab, "k1").key
    path = tmp_path / "k1.prv"
    path.write_bytes(blocks["RSA PRIVATE KEY"])
    assert int(_openssl_modulus(path, "cisco123"), 16) == key.private_numbers().public_numbers.n
    loaded = serialization.load_pem_private_key(blocks["RSA PRIVATE KEY"], b"cisco123")
    assert isinstance(loaded, rsa.RSAPrivateKey)
    assert loaded.private_numbers() == key.private_numbers()
    public = serialization.load_pem_public_key(blocks["PUBLIC KEY"])
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.public_numbers() == key.public_key().public_numbers()


def test_a_key_that_is_not_exportable_is_refused() -> None:
    """A key generated without `exportable`, or a missing one, could be exported instead of refused
    with a `%` message."""
    lab = _lab()
    lab.type("r1", "crypto key generate rsa label k1 modulus 512")
    out = lab.type("r1", "crypto key export rsa k1 pem terminal 3des cisco123")
    assert out[-1] == "% RSA keypair k1 is not exportable."
    assert not any("BEGIN" in line for line in out)
    assert lab.type("r1", "crypto key export rsa k9 pem terminal des x")[-1] == (
        "% RSA keypair k9 is not present.")


@needs_openssl
def test_export_to_nvram_writes_the_two_files_ios_names(tmp_path: Path) -> None:
    """`crypto key export rsa ... url nvram:` would not ask and write the .pub/.prv files IOS names,
    readable by openssl."""
    lab = _lab()
    r1 = lab.router("r1")
    lab.type("r1", "crypto key generate rsa label cisco1 modulus 512 exportable")
    command = "crypto key export rsa cisco1 pem url nvram: des cisco123"
    out = _after(lab.type("r1", command, ["", ""]), command)
    assert out == ["% Key name: cisco1", "   Usage: General Purpose Key",
                   "Exporting public key...", "Destination filename [cisco1.pub]?",
                   "Writing file to nvram:cisco1.pub", "Exporting private key...",
                   "Destination filename [cisco1.prv]?", "Writing file to nvram:cisco1.prv"]
    private = r1.nvram.read("cisco1.prv")
    assert private is not None and b"DEK-Info: DES-CBC," in private
    path = tmp_path / "cisco1.prv"
    path.write_bytes(private)
    # OpenSSL 3 keeps single DES in its legacy provider.
    modulus = _openssl_modulus(path, "cisco123", "-provider", "legacy", "-provider", "default")
    assert int(modulus, 16) == _pair(lab, "cisco1").key.public_key().public_numbers().n
    assert "cisco1.pub" in "\n".join(lab.type("r1", "do dir nvram:"))


def test_a_url_on_a_device_the_router_lacks_is_refused() -> None:
    """Exporting a key to a missing device or a `../` path would write somewhere instead of printing
    IOS's `%Error opening`."""
    lab = _lab()
    lab.type("r1", "crypto key generate rsa label k1 modulus 512 exportable")
    out = lab.type("r1", "crypto key export rsa k1 pem url disk9:k1 3des pw")
    assert out[-1] == "%Error opening disk9:k1 (No such device)"
    out = lab.type("r1", "crypto key export rsa k1 pem url nvram:../x 3des pw")
    assert out[-1] == "%Error opening nvram:../x (Invalid argument)"
    assert all("/" not in name for name in lab.router("r1").nvram.files())


# -- import ------------------------------------------------------------------------------------
@needs_openssl
def test_import_from_the_terminal_reads_what_openssl_writes(tmp_path: Path) -> None:
    """Pasting an openssl-made public key and encrypted private key into
    `crypto key import rsa ... terminal` would fail."""
    assert OPENSSL is not None
    plain, encrypted = tmp_path / "plain.pem", tmp_path / "enc.pem"
    subprocess.run([OPENSSL, "genrsa", "-out", str(plain), "1024"], check=True,
                   capture_output=True, timeout=60)
    subprocess.run([OPENSSL, "rsa", "-traditional", "-des3", "-in", str(plain), "-passout",
                    "pass:s3cret", "-out", str(encrypted)], check=True, capture_output=True,
                   timeout=60)
    public = subprocess.run([OPENSSL, "rsa", "-in", str(plain), "-pubout"], check=True,
                            capture_output=True, text=True, timeout=60).stdout
    private = encrypted.read_text()
    assert "DEK-Info: DES-EDE3-CBC" in private
    paste = [*public.splitlines(), "", *private.splitlines(), "quit"]
    command = "crypto key import rsa imported pem terminal exportable s3cret"
    lab = _lab()
    out = _after(lab.type("r1", command, paste), command)
    assert out[:2] == ["% Enter PEM-formatted public General Purpose key or "
                                   "certificate.",
                                   '% End with a blank line or "quit" on a line by itself.']
    assert "% Enter PEM-formatted encrypted private General Purpose key." in out
    assert out[-1] == "% Key pair import succeeded."
    pair = lab.router("r1").running.keys.get("imported")
    expected = serialization.load_pem_private_key(plain.read_bytes(), None)
    assert isinstance(expected, rsa.RSAPrivateKey)
    assert pair is not None and pair.exportable
    assert pair.key.private_numbers() == expected.private_numbers()
    assert "Key name: imported" in _show_keys(lab)


def test_import_with_a_wrong_passphrase_fails_and_keeps_nothing() -> None:
    """A key import with a wrong passphrase or a missing file would leave a key behind or crash
    instead of a `%` message."""
    lab = _lab()
    lab.type("r1", "crypto key generate rsa label k1 modulus 512 exportable")
    lab.type("r1", "crypto key export rsa k1 pem url nvram: 3des right", ["", ""])
    out = lab.type("r1", "crypto key import rsa k2 pem url nvram:k1 wrong", ["", ""])
    assert out[-1] == "% Key pair import failed: wrong passphrase or damaged key."
    assert lab.router("r1").running.keys.get("k2") is None
    out = lab.type("r1", "crypto key import rsa k2 pem url nvram:nofile right", [""])
    assert out[-1] == "%Error opening nvram:nofile.pub (No such file or directory)"


def test_a_key_larger_than_the_release_takes_is_refused() -> None:
    """Importing a key larger than the release allows would succeed instead of saying the key is out
    of range."""
    lab = _lab()
    big = rsa.generate_private_key(65537, 2056)
    nvram = lab.router("r1").nvram
    nvram.write("big.pub", pem_legacy.public_pem(big))
    nvram.write("big.prv", pem_legacy.encrypted_private_pem(big, "pw", "3des", bytes(8)))
    out = lab.type("r1", "crypto key import rsa big pem url nvram: pw", ["", ""])
    assert out[-1] == "% Key pair import failed: the key has 2056 bits, outside 360 to 2048."
    assert lab.router("r1").running.keys.get("big") is None


def test_usage_keys_go_out_and_come_back_through_flash() -> None:
    """Usage keys exported to flash: and imported back would not give the same signature and
    encryption keys."""
    lab = _lab()
    r1 = lab.router("r1")
    lab.type("r1", "crypto key generate rsa usage-keys label u1 modulus 512 exportable")
    out = lab.type("r1", "crypto key export rsa u1 pem url flash: 3des pw", [""] * 4)
    assert "   Usage: Signature Key" in out and "   Usage: Encryption Key" in out
    assert sorted(r1.flash.files()) == ["u1-encr.prv", "u1-encr.pub", "u1-sign.prv",
                                        "u1-sign.pub"]
    out = lab.type("r1", "crypto key import rsa u2 pem usage-keys url flash:u1 pw", [""] * 4)
    assert out[-1] == "% Key pair import succeeded."
    original, copy = r1.running.keys.get("u1"), r1.running.keys.get("u2")
    assert copy is not None and original is not None and not copy.exportable
    assert copy.key.private_numbers() == original.key.private_numbers()
    assert copy.encryption_key is not None and original.encryption_key is not None
    assert copy.encryption_key.private_numbers() == original.encryption_key.private_numbers()


def test_keys_travel_between_routers_over_tftp() -> None:
    """A key exported by one router to a TFTP server could not be imported by another router as the
    same key."""
    lab = Lab(seed=5)
    lab.add_router("srv", "10.0.0.9", "tftp-server flash:")
    lab.add_router("r1", "10.0.0.1")
    lab.add_router("r2", "10.0.0.2")
    lab.link("srv", "r1")
    lab.link("srv", "r2")
    lab.type("r1", CONF + "crypto key generate rsa label k1 modulus 512 exportable\n"
                          "crypto key export rsa k1 pem url tftp://10.0.0.9/ 3des pw", [""] * 2)
    assert sorted(lab.router("srv").flash.files()) == ["k1.prv", "k1.pub"]
    out = lab.type("r2", CONF + "crypto key import rsa k1 pem url tftp://10.0.0.9/ pw",
                   [""] * 2)
    assert "Reading file from tftp://10.0.0.9/k1.prv" in out
    assert out[-1] == "% Key pair import succeeded."
    assert (_pair(lab, "k1", "r2").key.private_numbers()
            == _pair(lab, "k1", "r1").key.private_numbers())


def test_a_public_key_that_does_not_match_is_refused() -> None:
    """Importing a public key with a private key from another pair would succeed instead of refusing
    the mismatch."""
    lab = _lab()
    lab.type("r1", "crypto key generate rsa label a modulus 512 exportable\n"
                   "crypto key generate rsa label b modulus 512 exportable")
    lab.type("r1", "crypto key export rsa a pem url nvram: 3des pw\n"
                   "crypto key export rsa b pem url nvram: 3des pw", [""] * 4)
    out = lab.type("r1", "crypto key import rsa c pem url nvram: pw", ["a.pub", "b.prv"])
    assert out[-1] == ("% Key pair import failed: the public key does not match the private "
                       "key.")


# -- saved and restored ---------------------------------------------------------------------------
def test_keys_survive_write_memory_and_reload() -> None:
    """Generated or imported keys, including usage keys and exportability, would be lost or changed
    after `write memory` and reload."""
    lab = _lab()
    lab.type("r1", "crypto key generate rsa usage-keys label u1 modulus 512 exportable\n"
                   "crypto key generate rsa label k1 modulus 512")
    lab.type("r1", "crypto key export rsa u1 pem url nvram:x 3des pw", [""] * 4)
    lab.type("r1", "crypto key import rsa imp pem usage-keys url nvram:x exportable pw",
             [""] * 4)
    before = _show_keys(lab)
    lab.type("r1", "end\nwrite memory\nreload", [""])
    lab.run(300)
    assert _show_keys(lab) == before
    assert lab.router("r1").running.keys.labels() == ["imp", "k1", "u1"]
    assert _pair(lab, "imp").usage_keys and _pair(lab, "imp").exportable
    assert not _pair(lab, "k1").exportable


def test_console_only_key_commands_are_skipped_in_a_startup_config() -> None:
    """`crypto key zeroize rsa` in a startup-config would wipe the router's keys at every boot."""
    lab = Lab(seed=5)
    lab.add_router("r1", "10.0.0.1", "crypto key generate rsa label k1 modulus 512\n"
                                     "crypto key zeroize rsa")
    assert lab.router("r1").running.keys.get("k1") is not None
    assert any("crypto key zeroize rsa: not run from the startup configuration" in line
               for line in lab.transcript("r1"))


# -- help and the PEM module ------------------------------------------------------------------
def test_help_after_crypto_key_lists_every_key_command() -> None:
    """`?` after `crypto key` or `crypto key generate rsa` would miss or add options compared with
    IOS."""
    screen = help_for(Mode.CONFIG).help("crypto key ")
    assert [entry.shown for entry in screen.entries] == ["export", "generate", "import",
                                                         "zeroize"]
    shown = {e.shown for e in help_for(Mode.CONFIG).help(
        "crypto key generate rsa modulus 512 ").entries}
    assert shown == {"exportable", "general-keys", "label", "usage-keys", "<cr>"}


def test_pem_files_round_trip_for_each_cipher() -> None:
    """Keys exported with des or 3des could not be imported back, or a wrong passphrase would be
    accepted."""
    key = rsa.generate_private_key(65537, 1024)
    for cipher in ("des", "3des"):
        pem = pem_legacy.encrypted_private_pem(key, "pw", cipher, bytes(range(8)))
        assert pem_legacy.load_private(pem, "pw").private_numbers() == key.private_numbers()
        with pytest.raises(pem_legacy.PemError):
            pem_legacy.load_private(pem, "other")
    public = pem_legacy.load_public(pem_legacy.public_pem(key))
    assert public.public_numbers() == key.public_key().public_numbers()
    with pytest.raises(pem_legacy.PemError):
        pem_legacy.load_public(b"-----BEGIN NONSENSE-----\nAAAA\n-----END NONSENSE-----\n")


@pytest.mark.parametrize(("release", "ssh", "engine"), [
    ("12.3(14)T", False, False), ("15.x", True, False), ("XE", True, True)])
def test_the_first_hostname_key_enables_ssh_and_xe_logs_every_key_added(
        release: str, ssh: bool, engine: bool) -> None:
    """15.x and XE routers log `%SSH-5-ENABLED` when their first `hostname.domain` key is
    generated (not when it is replaced, not for another label); XE also logs
    `%CRYPTO_ENGINE-5-KEY_ADDITION` for every key it adds."""
    lab = _lab(release)
    first = "\n".join(lab.type("r1", "crypto key generate rsa modulus 1024"))
    assert ("%SSH-5-ENABLED: SSH 1.99 has been enabled" in first) is ssh
    assert ("%CRYPTO_ENGINE-5-KEY_ADDITION: A key named r1.example.com has been generated "
            "or imported by crypto-engine" in first) is engine
    again = "\n".join(lab.type("r1", "crypto key generate rsa modulus 1024", ["yes"]))
    other = "\n".join(lab.type("r1", "crypto key generate rsa label other modulus 512"))
    assert "%SSH-5-ENABLED" not in again + other
    assert ("KEY_ADDITION: A key named other" in other) is engine


def test_the_default_label_needs_a_domain_name() -> None:
    """Without `ip domain name` IOS has no `hostname.domain` to name the keys after."""
    lab = Lab(seed=1)
    lab.add_router("r1", "10.0.0.1")
    out = lab.type("r1", ["enable", "configure terminal", "crypto key generate rsa modulus 512"])
    assert "% Please define a domain-name first." in out
    assert lab.router("r1").running.keys.labels() == []
    named = lab.type("r1", "crypto key generate rsa label k modulus 512")
    assert "% Please define a domain-name first." not in named
