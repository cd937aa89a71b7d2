"""Certificate-server storage other than nvram: the flash: device, TFTP between routers,
`database url [TYPE [publish]] URL`, `database level` files where the operator put them,
and what a server does when its storage cannot be reached."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest
from routerkit import Lab

from sim.kernel.transcript import transcript_lines
from sim.pki import x509util
from sim.pki.cs_fsm import CsState
from sim.router import filesystems, tftp
from sim.router.commands import run_to_completion
from sim.router.router import Router

CS = "enable\nconfigure terminal\ncrypto pki server ca\n"


def _server_lab(config: str, *, link_latency: float = 0.005) -> tuple[Lab, Router, Router]:
    """`ca` (HTTP on) linked to `fs`, which serves its flash:ca/ and flash:pub/ folders
    over TFTP; `ca`'s server configured with `config` and enabled."""
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    fs = lab.router("fs", "10.0.0.9", "tftp-server flash:ca/\ntftp-server flash:pub/")
    lab.net.add_link("ca", "fs", latency=link_latency)
    lab.type(ca, CS + config + "grant auto\nno shutdown\nend", ("cisco123", "cisco123"))
    return lab, ca, fs


def _enroll(lab: Lab, name: str, address: str) -> Router:
    router = lab.router(name, address)
    lab.net.add_link("ca", name, latency=0.005)
    lab.type(router, "enable\nconfigure terminal\ncrypto pki trustpoint ca\n"
                     "enrollment url http://10.0.0.1\nexit\ncrypto pki authenticate ca\n"
                     "crypto pki enroll ca\nend",
             ("yes", "pw", "pw", "no", "no", "yes"), settle=60)
    return router


# -- flash: --------------------------------------------------------------------------------
def test_flash_is_a_second_file_system_that_outlives_erase_nvram_reload_and_power() -> None:
    """Files on flash: would vanish after `erase nvram:`, reload or power-off, or
    `copy`/`dir flash:` would differ from IOS."""
    lab = Lab()
    r = lab.router("r", "10.0.0.1")
    out = lab.type(r, "enable\nwrite memory\ncopy nvram:startup-config flash:backup/r.cfg\n"
                      "dir flash:\ndir flash:backup/", ("",))
    assert "Destination filename [r.cfg]?" in out
    size = len(r.nvram.read("startup-config") or b"")
    assert f"{size} bytes copied in 0.000 secs" in out
    assert any(line.endswith("drwx            0                    <no date>  backup")
               for line in out)
    assert any(line.endswith(f"{size}                    <no date>  r.cfg") for line in out)
    lab.type(r, "erase nvram:", ("",))
    assert r.nvram.read("startup-config") is None
    r.power_off()
    lab.run(5)
    r.power_on()
    lab.run(60)
    lab.type(r, "enable\nreload", ("",), settle=120)
    assert r.flash.read("backup/r.cfg") is not None
    out = lab.type(r, "enable\ndir flash:backup/")
    assert any(line.endswith("r.cfg") for line in out)


def test_delete_and_erase_flash_ask_as_ios_and_leave_nvram_alone() -> None:
    """`delete` and `erase flash:` would not ask IOS's questions, print its errors, or would also
    wipe nvram."""
    lab = Lab()
    r = lab.router("r", "10.0.0.1")
    lab.type(r, "enable\nwrite memory\ncopy nvram:startup-config flash:a.cfg\n"
                "copy nvram:startup-config flash:b.cfg", ("", ""))
    out = lab.type(r, "delete flash:a.cfg", ("", ""))
    assert "Delete filename [a.cfg]?" in out and "Delete flash:a.cfg? [confirm]" in out
    assert r.flash.read("a.cfg") is None and r.flash.read("b.cfg") is not None
    out = lab.type(r, "delete flash:nothing.cfg", ("", ""))
    assert "%Error deleting flash:nothing.cfg (No such file or directory)" in out
    out = lab.type(r, "erase flash:", ("",))
    assert out[-2:] == ["Erasing device... eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee ...erased",
                        "Erase of flash: complete"]
    assert list(r.flash) == [] and r.nvram.read("startup-config") is not None
    out = lab.type(r, "dir flash:\ndir disk0:")
    assert "No files in directory" in out
    assert "%Error opening disk0: (No such device)" in out


# -- database url on flash:, per type, publish -------------------------------------------------
def test_database_files_land_where_each_database_url_puts_them() -> None:
    """CA database files would not land where `database url` puts them, or `show crypto pki server`
    would not say where."""
    lab, ca, fs = _server_lab("database url flash:ca/\ndatabase level complete\n"
                              "database url cnm flash:names/\n"
                              "database url crl publish tftp://10.0.0.9/pub/\n"
                              "database archive pkcs12 password cisco123\n")
    cs = ca.running.servers["ca"]
    assert cs.state is CsState.ENABLED
    _enroll(lab, "r1", "10.0.0.2")
    assert {"ca/ca.ser", "ca/ca.crl", "ca/ca.p12", "ca/2.cer", "names/2.cnm"} <= set(ca.flash)
    assert not any(n.startswith("ca.") or n.endswith((".cnm", ".cer")) for n in ca.nvram)
    assert b"last issued serial number 0x2" in (ca.flash.read("ca/ca.ser") or b"")
    assert fs.flash.read("pub/ca.crl") == ca.flash.read("ca/ca.crl")
    out = lab.type(ca, "show crypto pki server")
    assert "  Current storage dir: flash:ca/" in out


def test_unreachable_publish_location_warns_and_the_server_stays_enabled() -> None:
    """An unreachable CRL publish location would disable the CA or go without the CS_PUBLISH_STORAGE
    warning."""
    lab, ca, _fs = _server_lab("database url crl publish tftp://10.0.0.77/pub/\n")
    cs = ca.running.servers["ca"]
    assert cs.state is CsState.ENABLED
    lines = transcript_lines(lab.env.trace, "ca")
    assert any(line.endswith("%PKI-4-CS_PUBLISH_STORAGE: Publish certificate server "
                             "storage, tftp://10.0.0.77/pub/, is inaccessible.")
               for line in lines)
    assert ca.nvram.read("ca.crl") is not None


def test_a_database_url_on_a_device_the_router_lacks_fails_the_checks() -> None:
    """A `database url` on a missing device like disk0: would not disable the server with
    CS_CRIT_STORAGE."""
    lab, ca, _fs = _server_lab("database url disk0:ca/\n")
    cs = ca.running.servers["ca"]
    assert cs.state is CsState.CHECK_FAILED and cs.failure_reason == "Storage not accessible"
    assert any("%PKI-3-CS_CRIT_STORAGE: Critical certificate server storage, disk0:ca/, is "
               "inaccessible, server disabled." in line
               for line in transcript_lines(lab.env.trace, "ca"))


# -- TFTP storage ---------------------------------------------------------------------------
def test_tftp_database_lives_on_the_server_router_and_losing_it_disables_the_ca() -> None:
    """A CA keeping its database over TFTP would not disable when the link is lost, or not recover
    when it returns."""
    lab, ca, fs = _server_lab("database url tftp://10.0.0.9/ca/\n")
    cs = ca.running.servers["ca"]
    assert cs.state is CsState.ENABLED
    assert {"ca/ca.ser", "ca/ca.crl", "ca/ca.p12"} <= set(fs.flash)
    assert not ca.nvram.exists("ca.ser")
    reads = lab.env.trace.select(router="ca", category="tftp", name="write")
    assert reads and all(e.data["result"] == "ok" for e in reads)

    lab.net.set_link_up("ca", "fs", False)
    start = lab.env.now
    _enroll(lab, "r1", "10.0.0.2")  # grant auto: the .ser write times out
    assert cs.state is CsState.CHECK_FAILED
    failed = lab.env.trace.select(router="ca", category="cs", name="storage.failed")
    assert failed[0].data["error"] == "%Error opening tftp://10.0.0.9/ca/ca.ser (Timed out)"
    assert failed[0].t - start >= tftp.TRIES * tftp.TIMEOUT - 0.1
    out = lab.type(ca, "show crypto pki server")
    assert "  Status: disabled, Storage not accessible" in out
    assert any("%PKI-3-CS_CRIT_STORAGE: Critical certificate server storage, "
               "tftp://10.0.0.9/ca/, is inaccessible, server disabled." in line
               for line in transcript_lines(lab.env.trace, "ca"))
    # Still unreachable: the checks of a new `no shutdown` read nothing and fail again.
    lab.type(ca, CS + "shutdown\nno shutdown\nend", settle=60)
    assert cs.state is CsState.CHECK_FAILED
    # Back: the server comes up and its serial file catches up (serial 2 was issued).
    lab.net.set_link_up("ca", "fs", True)
    lab.type(ca, CS + "shutdown\nno shutdown\nend", settle=60)
    assert cs.state is CsState.ENABLED
    assert b"last issued serial number 0x2" in (fs.flash.read("ca/ca.ser") or b"")


def test_a_revocation_made_while_storage_was_lost_is_not_forgotten() -> None:
    """A certificate revoked while the CA's TFTP storage was down would be missing from the stored
    CRL afterwards."""
    lab, ca, fs = _server_lab("database url tftp://10.0.0.9/ca/\n")
    _enroll(lab, "r1", "10.0.0.2")
    lab.net.set_link_up("ca", "fs", False)
    lab.type(ca, "crypto pki server ca revoke 2", settle=60)
    lab.net.set_link_up("ca", "fs", True)
    lab.type(ca, CS + "shutdown\nno shutdown\nend", settle=60)
    stored = x509util.load_crl(fs.flash.read("ca/ca.crl") or b"")
    assert [entry.serial_number for entry in stored] == [2]


def test_tftp_transfers_many_blocks_over_a_lossy_link_and_report_ios_errors() -> None:
    """TFTP between routers would fail on a lossy link or not print IOS's errors (Timed out, File
    not found, etc.)."""
    lab = Lab()
    client = lab.router("c", "10.0.0.1")
    server = lab.router("s", "10.0.0.9", "tftp-server flash:pub/\ntftp-server flash:fixed.bin")
    link = lab.net.add_link("c", "s", latency=0.01, loss=0.2)
    data = bytes(range(256)) * 9  # 2304 bytes: four full blocks and a short one
    server.flash.write("fixed.bin", data)

    def run(gen: Generator[Any, Any, Any]) -> Any:
        process = lab.env.process(gen)
        lab.env.run(until=process)
        return process.value

    got = run(filesystems.read(client, "tftp://10.0.0.9/fixed.bin"))
    assert got == data
    assert lab.env.trace.select(router="c", category="tftp", name="retransmit")
    assert run(filesystems.write(client, "tftp://10.0.0.9/pub/copy.bin", data)) is None
    assert server.flash.read("pub/copy.bin") == data
    link.loss = 0.0
    denied = run(filesystems.write(client, "tftp://10.0.0.9/fixed.bin", b"x"))
    assert isinstance(denied, filesystems.FsError)
    assert denied.text == "%Error opening tftp://10.0.0.9/fixed.bin (Permission denied)"
    missing = run(filesystems.read(client, "tftp://10.0.0.9/pub/none.bin"))
    assert isinstance(missing, filesystems.FsError)
    assert missing.text == "%Error opening tftp://10.0.0.9/pub/none.bin (File not found)"
    nobody = run(filesystems.read(client, "tftp://10.0.0.50/x"))
    assert isinstance(nobody, filesystems.FsError) and "(Timed out)" in nobody.text
    assert run(filesystems.read(client, "ftp://10.0.0.9/x")) == filesystems.FsError(
        filesystems.FsFailure.NO_DEVICE, "%Error opening ftp://10.0.0.9/x (No such device)")


def test_copy_to_and_from_a_tftp_server_router() -> None:
    """`copy` to and from a TFTP server router would lose or change the file, or report the wrong
    transfer time."""
    lab = Lab()
    r = lab.router("r", "10.0.0.1")
    s = lab.router("s", "10.0.0.9", "tftp-server flash:")
    lab.net.add_link("r", "s", latency=0.02)
    out = lab.type(r, "enable\nwrite memory\ncopy nvram:startup-config tftp://10.0.0.9/r.cfg\n"
                      "copy tftp://10.0.0.9/r.cfg flash:r.cfg", ("", ""))
    size = len(r.nvram.read("startup-config") or b"")
    assert s.flash.read("r.cfg") == r.nvram.read("startup-config")
    assert r.flash.read("r.cfg") == r.nvram.read("startup-config")
    assert "!" in out
    # A write and a read of one block each: two round trips of 40 ms apiece.
    assert f"{size} bytes copied in 0.080 secs" in out
    lab.type(r, "copy running-config tftp://10.0.0.9/r-confg", ("",))
    assert s.flash.read("r-confg") == r.running_config_text().encode()


# -- configuration ------------------------------------------------------------------------
def test_storage_settings_show_in_running_config_and_survive_write_memory_and_reload() -> None:
    """`database url`, `serial-number`, `redundancy` or `tftp-server` lines would be missing from
    the running-config or lost on reload."""
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1")
    lab.type(ca, CS + "database url flash:ca/\ndatabase url crl publish tftp://10.0.0.9/pub/\n"
                      "database url cnm flash:names/\ndatabase username admin password s3cret\n"
                      "serial-number 0x10\nredundancy\nexit\ntftp-server flash:pub/\nend\n"
                      "write memory")
    expected = [" database url flash:ca/", " database url crl publish tftp://10.0.0.9/pub/",
                " database url cnm flash:names/",
                " database username admin password 7 044858051D2458",
                " serial-number 0x10", " redundancy", "tftp-server flash:pub/"]
    text = ca.running_config_text()
    for line in expected:
        assert line in text.splitlines()
    lab.type(ca, "reload", ("",), settle=120)
    assert ca.running_config_text() == text
    cfg = ca.running.servers["ca"].config
    assert cfg.database_password == "s3cret" and cfg.serial_number == 16 and cfg.redundancy
    assert ca.running.servers["ca"].last_serial == 16
    lab.type(ca, CS + "no database url crl publish\nno database username\nno redundancy\n"
                      "no serial-number\nexit\nno tftp-server flash:pub/\nend")
    text = ca.running_config_text()
    assert not any(line in text.splitlines() for line in expected[1:2] + expected[3:])


def test_storage_settings_cannot_change_while_the_server_runs() -> None:
    """Storage settings changed on a running CA would take effect instead of IOS's
    "configuration is locked" message."""
    lab, ca, _fs = _server_lab("")
    out = lab.type(ca, CS + "database url crl flash:crl/\nserial-number 0x9\nend")
    assert out.count("% Server's configuration is locked (enter \"shut\" to unlock it)") == 2
    assert ca.running.servers["ca"].config.database_typed_urls == ()


def test_tftp_server_serves_only_flash() -> None:
    """`tftp-server nvram:startup-config` would be accepted and serve the router's config to anyone.
    """
    lab = Lab()
    r = lab.router("r", "10.0.0.1")
    out = lab.type(r, "enable\nconfigure terminal\ntftp-server nvram:startup-config\nend")
    assert "%Error: nvram:startup-config is not a flash: file or folder" in out
    assert r.running.tftp_served == []


# -- the archive -------------------------------------------------------------------------------
@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
def test_database_archive_pem_with_a_password_writes_real_pem_without_asking(
        tmp_path: Path) -> None:
    """`database archive pem password` would prompt anyway, or write an archive openssl cannot read
    with that password."""
    lab = Lab()
    ca = lab.router("ca", "10.0.0.1", "ip http server")
    out = lab.type(ca, CS + "database archive pem password archpass1\nno shutdown\nend")
    assert not any("passphrase" in line or "Password:" in line for line in out)
    assert "% Exporting Certificate Server signing certificate and keys..." in out
    data = ca.nvram.read("ca.pem")
    assert data is not None and not ca.nvram.exists("ca.p12")
    path = tmp_path / "ca.pem"
    path.write_bytes(data)
    cert = subprocess.run(["openssl", "x509", "-in", str(path), "-noout", "-subject"],
                          capture_output=True, text=True)
    assert cert.returncode == 0 and "CN" in cert.stdout and "ca" in cert.stdout
    key = subprocess.run(["openssl", "rsa", "-in", str(path), "-passin", "pass:archpass1",
                          "-noout", "-modulus"], capture_output=True, text=True)
    assert key.returncode == 0
    cs = ca.running.servers["ca"]
    assert cs.ca_cert is not None
    public = cs.ca_cert.public_key()
    assert key.stdout.strip() == f"Modulus={public.public_numbers().n:X}"  # type: ignore[union-attr]
    wrong = subprocess.run(["openssl", "rsa", "-in", str(path), "-passin", "pass:wrong",
                            "-noout"], capture_output=True, text=True)
    assert wrong.returncode != 0


def test_no_crypto_pki_server_deletes_its_files_where_they_are() -> None:
    """`no crypto pki server` would leave the CA's database files behind on flash:."""
    lab, ca, fs = _server_lab("database url flash:ca/\n")
    assert ca.flash.exists("ca/ca.ser")
    lab.type(ca, "configure terminal\nno crypto pki server ca\nend", ("yes",))
    assert not any(name.startswith("ca/ca.") for name in ca.flash)


def test_observing_dir_flash_does_not_need_the_console() -> None:
    """Reports and expectations that read `dir flash:` or flash: files would fail or disturb the
    console."""
    lab = Lab()
    r = lab.router("r", "10.0.0.1")
    r.flash.write("x.bin", b"abc")
    assert r.observe("dir flash:")[2].endswith("3                    <no date>  x.bin")
    assert run_to_completion(filesystems.read(r, "flash:x.bin")) == b"abc"
