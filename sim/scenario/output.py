"""Write a run's output folder (DESIGN.md "A run's output folder").

    summary.json               scenario, seed, version, final state, expectations, artifacts
    trace.jsonl                one JSON object per trace event
    transcripts/<router>.txt   each console as a person would have seen it
    artifacts/<router>/        the final CA certificates, chains, enrolled certificates and
                               CRLs as PEM (openssl reads them)
    artifacts/<router>/run/    everything the router produced or received during the run,
                               numbered in order: CSRs, issued certificates, CRLs, and each
                               SCEP message as DER (`0007-sent-PKCSReq.der`)

Everything written is a function of the scenario, the seed and the version, so two runs
give byte-identical folders. Only the files pkilab writes are replaced; anything else a
user keeps in the folder is left alone.

File names are made of names a scenario chose (routers, trustpoints, certificate
servers). The console refuses labels IOS would refuse, and this writer checks again:
every path must resolve inside the output folder (no `..`, no absolute path, no symbolic
link leading out). A path that does not is not written; it is listed in
`summary.json` under `refused_paths`.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path
from typing import Any

from cryptography import x509

import sim
from sim.kernel.gc_policy import batch_collection
from sim.kernel.transcript import (
    TranscriptLine,
    text_of,
    transcript_text,
    transcripts_from_file,
)
from sim.pki import x509util
from sim.pki.cs_fsm import TRANSITIONS, CsSignal, CsState
from sim.pki.cs_settings import CsMode
from sim.router.router import Router
from sim.scenario.runner import RunResult
from sim.scenario.summary_json import dumps_indented

OWNED = ("summary.json", "trace.jsonl", "transcripts", "artifacts")
REPORT_FACTS = ("scep", "ike", "fsm", "link")
"""The trace categories the report reads besides the consoles (`sim.report.build`): read
in the same pass as the transcripts and kept for the report written next."""


class OutsideOutputFolder(ValueError):
    """A file name that would be written outside the output folder."""


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
"""Where the platform has it (not Windows), a file in a folder already checked is opened
with O_NOFOLLOW: the open itself refuses a name that is a symbolic link (ELOOP), which
then goes through the whole check, instead of a check (`lstat`) before every open."""
_WRITE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | _NOFOLLOW
"""What `Path.write_bytes` opens a file with (`open(path, "wb")`), plus O_NOFOLLOW."""


def _write_nofollow(path: str, data: bytes) -> None:
    descriptor = os.open(path, _WRITE, 0o666)
    try:
        written = os.write(descriptor, data)
        while written < len(data):  # a regular file takes it all at once, but may not
            written += os.write(descriptor, memoryview(data)[written:])
    finally:
        os.close(descriptor)


def _open_nofollow(path: str, flags: int) -> int:
    return os.open(path, flags | _NOFOLLOW)


class ConfinedWriter:
    """Writes files under one folder and nowhere else."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.refused: list[str] = []
        self._folders: dict[str, Path] = {}
        """Folders (relative, as given) already resolved inside `root`: a run writes
        thousands of files into a few folders, and resolving each whole path again (a
        system call per component) cost more than writing the file."""
        self._prefixes: dict[str, str] = {}
        """`_folders` as strings ending in a separator, for the O_NOFOLLOW fast path."""

    def path(self, relative: str) -> Path:
        """`root/relative`, or OutsideOutputFolder if that is not inside `root` once `..`
        and symbolic links are resolved (or `relative` is absolute)."""
        folder, _, name = relative.rpartition("/")
        if name in ("", ".", "..") or "\x00" in relative or Path(relative).is_absolute():
            return self._resolved(relative)
        parent = self._folders.get(folder)
        if parent is None:
            below = self._below_checked(folder)
            if below is not None:
                self._remember(folder, below)
                return self._resolved(relative) if (below / name).is_symlink() \
                    else below / name
            parent = (self.root / folder).resolve()
            if parent != self.root and not parent.is_relative_to(self.root):
                raise OutsideOutputFolder(relative)
            if parent.is_dir():
                # Only a folder that exists is remembered (`write` remembers the ones
                # it makes): one not made yet could be made a link by someone else.
                self._remember(folder, parent)
        # A plain name in a folder inside `root` stays inside unless it is a symbolic
        # link: that one is followed by the whole check.
        target = parent / name
        return self._resolved(relative) if target.is_symlink() else target

    def _resolved(self, relative: str) -> Path:
        candidate = Path(relative)
        if candidate.is_absolute() or "\x00" in relative:
            raise OutsideOutputFolder(relative)
        resolved = (self.root / candidate).resolve()
        if resolved == self.root or not resolved.is_relative_to(self.root):
            raise OutsideOutputFolder(relative)
        return resolved

    def _below_checked(self, folder: str) -> Path | None:
        """`folder` resolved, if it is a real folder (not a symbolic link) in a folder
        already checked (or in one such, and so on up): then it resolves to that folder's
        path plus its own name, found with an `lstat` per new level instead of resolving
        the whole path again (a system call per component, for each router's folder).
        None if that does not settle it (the caller resolves the whole path)."""
        head, _, last = folder.rpartition("/")
        if last in ("", ".", "..") or "\x00" in folder:
            return None
        above = self.root if head == "" else self._folders.get(head)
        if above is None:
            above = self._below_checked(head)
            if above is None:
                return None
        candidate = above / last
        try:
            mode = os.lstat(candidate).st_mode
        except OSError:
            return None
        return candidate if stat.S_ISDIR(mode) else None

    def _remember(self, folder: str, parent: Path) -> None:
        """Remember `folder` (relative, as given) as the checked folder `parent`."""
        self._keep(folder, parent)
        # A folder that resolved to its own spelling has no symbolic link on the way to
        # it, so each folder above it is a real folder inside `root` too: once a router's
        # `artifacts/r1/run` is known, its final files in `artifacts/r1` need no check of
        # their folder (resolving it costs a system call per component, for each router).
        if "/" in folder and parent == self.root.joinpath(folder):
            head = folder
            while "/" in head:
                head = head.rpartition("/")[0]
                if head and head not in self._folders:
                    self._keep(head, self.root.joinpath(head))

    def _keep(self, folder: str, parent: Path) -> None:
        self._folders[folder] = parent
        self._prefixes[folder] = os.path.join(parent, "")

    def _checked(self, relative: str) -> str | None:
        """`root/relative` as a string if its folder is one already checked and its name
        is a plain file name (what `path` then returns unless the name is a symbolic
        link, which the caller's O_NOFOLLOW open refuses); None otherwise."""
        if not _NOFOLLOW or "\x00" in relative:
            return None
        folder, _, name = relative.rpartition("/")
        prefix = self._prefixes.get(folder)
        if prefix is None or name in ("", ".", ".."):
            return None
        return prefix + name

    def _made(self, relative: str) -> str | None:
        """`_checked(relative)` after making its folder, level by level, below the nearest
        folder already checked (or `root`), if each new level is a plain name that is, or
        has just been made, a real folder (not a symbolic link: `mkdir` never follows one,
        and an `lstat` tells it from a folder). A run streams each router's artifacts into
        a folder of its own: checking and making each with pathlib (resolving the whole
        path, twice) cost more than the router's files. None where that does not settle
        it (a symbolic link, an odd name): the whole check decides."""
        if not _NOFOLLOW or "\x00" in relative or relative.startswith("/"):
            return None
        folder, _, name = relative.rpartition("/")
        if not folder or name in ("", ".", ".."):
            return None
        missing: list[str] = []
        head = folder
        while head not in self._prefixes:
            head, _, last = head.rpartition("/")
            if last in ("", ".", ".."):
                return None
            missing.append(last)
            if not head:
                break
        prefix = self._prefixes.get(head) if head else os.path.join(self.root, "")
        if prefix is None:
            return None
        for last in reversed(missing):
            made = prefix + last
            try:
                os.mkdir(made)
            except FileExistsError:
                pass
            except OSError:
                return None  # the whole check says why, or refuses
            try:
                if not stat.S_ISDIR(os.lstat(made).st_mode):
                    return None
            except OSError:
                return None
            head = f"{head}/{last}" if head else last
            self._keep(head, Path(made))
            prefix = os.path.join(made, "")
        return prefix + name

    def write(self, relative: str, data: bytes) -> bool:
        """Write `data`; False (and the name kept in `refused`) if it would land outside."""
        if self.put(relative, data):
            return True
        self.refused.append(relative)
        return False

    def put(self, relative: str, data: bytes) -> bool:
        """Write `data`; False if it would land outside (not kept in `refused`: the
        caller decides what a refusal means)."""
        checked = self._checked(relative)
        if checked is None:
            checked = self._made(relative)
        if checked is not None:
            # A file in a folder already checked: a run writes thousands of them, and
            # `path` + `write_bytes` (pathlib objects, an lstat, then the open) cost more
            # than creating the file. The same bytes land in the same file.
            try:
                _write_nofollow(checked, data)
                return True
            except OSError as error:
                if error.errno != errno.ELOOP:
                    raise
                # The name is a symbolic link: the whole check decides, as below.
        try:
            target = self.path(relative)
        except OutsideOutputFolder:
            return False
        self.make_folder(relative, target)
        target.write_bytes(data)
        return True

    def read(self, relative: str) -> bytes:
        """The bytes of a file `write` or `put` wrote (OutsideOutputFolder if `relative`
        is not inside the folder)."""
        checked = self._checked(relative)
        if checked is not None:
            try:
                with open(checked, "rb", opener=_open_nofollow) as handle:
                    return handle.read()
            except OSError as error:
                if error.errno != errno.ELOOP:
                    raise
        return self.path(relative).read_bytes()

    def make_folder(self, relative: str, target: Path) -> None:
        """Make the folder `target` (the checked path of `relative`) goes in, and remember
        it for the next files written there."""
        folder, _, name = relative.rpartition("/")
        if folder in self._folders:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        parent = self._below_checked(folder) or (self.root / folder).resolve()
        if name not in ("", ".", "..") and target == parent / name:
            self._remember(folder, parent)


def confined_folder(root: Path, relative: str) -> Path:
    """`root/relative` (as written, not resolved), or OutsideOutputFolder if it would not
    lie inside `root`: a run's folder under a suite's output root, whose path comes from a
    user's file names (`sim.scenario.identity`), or a symbolic link already in the root."""
    ConfinedWriter(root).path(relative)
    return root / relative


def clear_owned(out_dir: Path) -> None:
    """Remove what an earlier run wrote into `out_dir` (and nothing else)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in OWNED:
        path = out_dir / name
        if path.is_symlink() or path.is_file():
            path.unlink()  # a link is removed, never followed
        elif path.is_dir():
            shutil.rmtree(path)


def write_output(result: RunResult, out_dir: Path, *, path: str | None = None) -> list[str]:
    """Write the folder; return the artifact paths (relative to `out_dir`). `path` is the
    scenario file as its suite names it (`sim.scenario.identity`), kept in `summary.json`
    for the report's title."""
    with batch_collection():
        return _write_output(result, out_dir, path)


def _write_output(result: RunResult, out_dir: Path, path: str | None) -> list[str]:
    trace = result.world.env.trace
    writer = ConfinedWriter(out_dir)
    # A run streamed into this folder (`sim.scenario.streaming`) has written its trace
    # and run artifacts already; the folder was cleared when it started.
    streamed = trace.streamed_to == writer.root / "trace.jsonl"
    if streamed:
        trace.end_stream()
    else:
        clear_owned(out_dir)
        writer.write("trace.jsonl", trace.to_jsonl().encode("utf-8"))
    (out_dir / "transcripts").mkdir()
    # A streamed trace is on disk: every router's console is cut out of it in one read
    # (seeking to each router's lines and parsing them one by one cost more than the
    # transcripts are worth). Events emitted after the stream ended are not in the file:
    # then each router's transcript comes from the trace as a whole.
    books: dict[str, list[TranscriptLine]] | None = None
    if streamed:
        # Kept for the report, which is written next from the same file (`write_report`),
        # with the other records it reads: one pass over the file for both.
        books, count = transcripts_from_file(writer.root / "trace.jsonl", keep=True,
                                             also=REPORT_FACTS)
        if count != len(trace):
            books = None
    for name in result.world.routers:
        text = (text_of(books.get(name, [])) if books is not None
                else transcript_text(trace, name))
        writer.write(f"transcripts/{name}.txt", text.encode("utf-8"))
    artifacts = _write_artifacts(result, writer, run_files=True, streamed=streamed)
    return _finish_summary(result, writer, artifacts, path)


def finish_output(result: RunResult, writer: ConfinedWriter, *,
                  streamed_artifacts: bool, path: str | None = None) -> list[str]:
    """The final certificates and CRLs, the run's artifacts (unless they were written as
    the run went: a live lab) and `summary.json`; returns the artifact paths."""
    artifacts = _write_artifacts(result, writer, run_files=not streamed_artifacts)
    if streamed_artifacts:
        artifacts = sorted({*artifacts, *_files_under(writer.root, "artifacts")})
    return _finish_summary(result, writer, artifacts, path)


def _finish_summary(result: RunResult, writer: ConfinedWriter, artifacts: list[str],
                    path: str | None) -> list[str]:
    summary = build_summary(result, artifacts, path)
    if writer.refused:
        summary["refused_paths"] = sorted(writer.refused)
    # `json.dumps(summary, indent=2, sort_keys=True)`, written faster (`summary_json`).
    (writer.root / "summary.json").write_text(dumps_indented(summary) + "\n",
                                              encoding="utf-8")
    return artifacts


def _files_under(root: Path, folder: str) -> list[str]:
    base = root / folder
    if not base.is_dir():
        return []
    return [path.relative_to(root).as_posix() for path in base.rglob("*") if path.is_file()]


def _write_artifacts(result: RunResult, writer: ConfinedWriter, *, run_files: bool,
                     streamed: bool = False) -> list[str]:
    """Write each router's final files and (`run_files`) its run's artifacts. `streamed`:
    the run wrote its artifacts into this folder as it went; only those the folder refused
    are still in memory (to be refused again, and listed)."""
    written: list[str] = []
    for name, router in result.world.routers.items():
        files: dict[str, bytes] = {}
        on_disk: set[str] = set()
        for cs in router.running.servers.values():
            if cs.ca_cert is not None:
                files[f"{cs.name}.ca.pem"] = x509util.cert_pem(cs.ca_cert)
            if cs.crl_der is not None:
                files[f"{cs.name}.crl.pem"] = x509util.crl_pem(x509util.load_crl(cs.crl_der))
        for tp in router.running.trustpoints.values():
            if tp.ca_cert is not None and f"{tp.name}.ca.pem" not in files:
                files[f"{tp.name}.ca.pem"] = x509util.cert_pem(tp.ca_cert)
            if tp.ca_chain:
                files[f"{tp.name}.chain.pem"] = b"".join(x509util.cert_pem(c)
                                                         for c in tp.ca_chain)
            if tp.id_cert is not None:
                files[f"{tp.name}.cert.pem"] = x509util.cert_pem(tp.id_cert)
        if run_files:
            for name_, data in (router.artifacts.held() if streamed else router.artifacts):
                files[f"run/{name_}"] = data
            if streamed:
                on_disk = {f"run/{name_}" for name_ in router.artifacts.stored}
        for filename in sorted({*files, *on_disk}):
            relative = f"artifacts/{name}/{filename}"
            if filename in on_disk or writer.write(relative, files[filename]):
                written.append(relative)
    return written


def build_summary(result: RunResult, artifacts: list[str],
                  path: str | None = None) -> dict[str, Any]:
    scenario = result.scenario
    return {
        "scenario": scenario.name,
        "variant": scenario.variant,
        "replay": result.replay,
        "description": scenario.description,
        "file": scenario.source.name if scenario.source else None,
        "path": path,
        "seed": result.seed,
        "version": sim.__version__,
        "start": scenario.start.isoformat(),
        "duration": scenario.duration,
        "passed": result.passed,
        "routers": {name: _router_state(r) for name, r in result.world.routers.items()},
        "topology": {
            "routers": {spec.name: {"address": spec.address} for spec in scenario.routers},
            "links": [{"a": link.a, "b": link.b, "latency": link.latency, "loss": link.loss}
                      for link in scenario.links],
        },
        "certificates": certificate_facts(result),
        "fsm": fsm_table(),
        "expectations": [r.to_json() for r in result.results],
        "strict": result.strict,
        "warnings": [warning.to_json() for warning in result.warnings],
        "artifacts": artifacts,
    }


def fsm_table() -> dict[str, Any]:
    """The certificate-server transition table the code runs, for report diagrams."""
    return {
        "states": [state.value for state in CsState],
        "signals": [signal.value for signal in CsSignal],
        "transitions": [
            {"from": state.value, "signal": signal.value, "action": step.action.value,
             "to": [target.value for target in step.targets]}
            for (state, signal), step in TRANSITIONS.items()
        ],
    }


def _fingerprint(cert: x509.Certificate) -> str:
    return x509util.fingerprint(x509util.cert_der(cert), "md5")


def certificate_facts(result: RunResult) -> list[dict[str, Any]]:
    """Every CA and enrolled certificate at the end of the run, linked to its issuer by
    fingerprint: the PKI hierarchy a report draws."""
    crls: dict[str, x509.CertificateRevocationList] = {}
    for router in result.world.routers.values():
        for cs in router.running.servers.values():
            if cs.ca_cert is not None and cs.crl is not None:
                crls[_fingerprint(cs.ca_cert)] = cs.crl
    facts: list[dict[str, Any]] = []
    seen: set[str] = set()

    def add(router: Router, name: str, role: str, cert: x509.Certificate,
            parent: x509.Certificate | None) -> None:
        md5 = _fingerprint(cert)
        if md5 in seen:
            return
        seen.add(md5)
        parent_md5 = _fingerprint(parent) if parent is not None else None
        crl = crls.get(parent_md5 or "")
        revoked = crl is not None and crl.get_revoked_certificate_by_serial_number(
            cert.serial_number) is not None
        facts.append({
            "router": router.name, "name": name, "role": role,
            "subject": x509util.format_dn_ios(cert.subject),
            "issuer": x509util.format_dn_ios(cert.issuer),
            "serial": cert.serial_number,
            "not_before": cert.not_valid_before_utc.isoformat(),
            "not_after": cert.not_valid_after_utc.isoformat(),
            "key_bits": cert.public_key().key_size,  # type: ignore[union-attr]
            "md5": md5, "sha1": x509util.fingerprint(x509util.cert_der(cert), "sha1"),
            "parent": parent_md5, "revoked": revoked,
            "expired": router.clock.now() > cert.not_valid_after_utc,
        })

    for router in result.world.routers.values():
        for cs in router.running.servers.values():
            if cs.ca_cert is None:
                continue
            role = {CsMode.SUB_CS: "sub-ca", CsMode.RA: "ra"}.get(cs.config.mode, "root")
            add(router, cs.name, role, cs.ca_cert, cs.upper_ca_cert)
    for router in result.world.routers.values():
        for tp in router.running.trustpoints.values():
            if tp.id_cert is not None and tp.name not in router.running.servers:
                add(router, tp.name, "router", tp.id_cert, tp.ca_cert)
    return facts


def _router_state(router: Router) -> dict[str, Any]:
    servers = {}
    for cs in router.running.servers.values():
        servers[cs.name] = {
            "state": cs.state.value,
            "status": cs.status(),
            "mode": cs.config.mode,
            "last_serial": cs.last_serial,
            "ca_fingerprint_md5": (
                x509util.fingerprint(x509util.cert_der(cs.ca_cert), "md5") if cs.ca_cert else None
            ),
        }
    return {
        "address": router.address,
        "hostname": router.running.hostname,
        "running": router.up,
        "clock": router.clock.timestamp(),
        "clock_set": router.clock.is_set,
        "http_server": router.running.http_server,
        "servers": servers,
        "trustpoints": sorted(router.running.trustpoints),
        "nvram": {name: router.nvram.size_of(name) or 0 for name in router.nvram},
    }
