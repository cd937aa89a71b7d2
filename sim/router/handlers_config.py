"""Configuration-mode commands: global config, `ca-trustpoint` and `cs-server` modes."""

from __future__ import annotations

from typing import Any

from sim.kernel.process import SimProcess
from sim.net.topology import normalise_address
from sim.pki.cs_fsm import CsSignal, CsState
from sim.pki.cs_server import (
    LIFETIME_CRL_HOURS,
    LIFETIME_ENROLLMENT_REQUEST_HOURS,
    LIFETIME_MINUTES,
    CertificateServer,
)
from sim.pki.cs_settings import ArchiveFormat, CsMode, DatabaseLevel, SignatureHash
from sim.pki.grant_rules import GRANT_AUTO_SYSLOG, REJECT_AUTO_SYSLOG
from sim.pki.revocation_methods import RevocationMethod, methods_of
from sim.pki.x509util import min_signing_bits, parse_dn
from sim.router import password7, pki_storage
from sim.router.cli_parser import Match, ParseError
from sim.router.command_table import CommandTable
from sim.router.console import AbortCommand, Mode, Session
from sim.router.handlers_pki import CONFIG_PKI_COMMANDS, looks_like_interface
from sim.router.server_host import TRUSTPOINT_CREATE
from sim.router.show_pki import show_cs_settings
from sim.router.state import TimeZone, Trustpoint

LOCKED_MESSAGE = "% Server's configuration is locked (enter \"shut\" to unlock it)"
"""IOS's wording for editing a locked server was never captured; this mirrors the lock
line `show crypto pki server` prints."""
FROZEN_MESSAGE = "% This setting cannot be changed after CA certificate generation."


# -- leaving modes -----------------------------------------------------------------------
def leave_configuration(s: Session) -> None:
    """`end` or Ctrl-Z: back to privileged EXEC, and the syslog IOS writes for it."""
    s.mode, s.context = Mode.EXEC, None
    s.router.log("%SYS-5-CONFIG_I: Configured from console by console")


def _end(s: Session, m: Match) -> None:
    leave_configuration(s)


def _exit_config(s: Session, m: Match) -> None:
    _end(s, m)


def _exit_submode(s: Session, m: Match) -> None:
    s.mode, s.context = Mode.CONFIG, None


# -- global configuration ----------------------------------------------------------------
def _hostname(s: Session, m: Match) -> None:
    s.router.running.hostname = "Router" if m.negated else str(m.args["name"])


def _http_server(s: Session, m: Match) -> None:
    s.router.set_http_server(not m.negated)


def _ip_host(s: Session, m: Match) -> None:
    name = str(m.args["host"])
    if m.negated:
        s.router.running.hosts.remove(name)
    elif "addr" in m.args:
        s.router.running.hosts.add(name, str(m.args["addr"]))


def _domain_name(s: Session, m: Match) -> None:
    s.router.running.domain_name = None if m.negated else str(m.args["name"])


def _clock_timezone(s: Session, m: Match) -> None:
    """`clock timezone NAME HOURS [MINUTES]` (cisco-client-docs.md 6; default UTC)."""
    if m.negated:
        s.router.running.timezone = None
        return
    s.router.running.timezone = TimeZone(str(m.args["zone"]), m.integer("hours"),
                                         m.integer("minutes", 0))


def _domain_lookup(s: Session, m: Match) -> None:
    s.router.running.domain_lookup = not m.negated


def _trustpoint(s: Session, m: Match) -> SimProcess[None]:
    name = str(m.args["name"])
    router = s.router
    if m.negated:
        tp = router.running.trustpoints.get(name)
        if tp is None:
            s.write(f"% Certificate Authority (trustpoint) {name} is unknown")
            return
        if name in router.running.servers:
            # pkilab's wording. The server's trustpoint holds its CA certificate; IOS's
            # order is the server first, then its trustpoint (cisco-cs.md 4: the trustpoint
            # "is left behind (remove with `no crypto pki trustpoint`)").
            s.write(f"% Trustpoint {name} is in use by the certificate server {name}.")
            s.write(f"% Remove the certificate server first ('no crypto pki server {name}').")
            return
        if (tp.ca_cert or tp.id_cert) and not s.booting:
            s.write("% Removing an enrolled trustpoint will destroy all certificates")
            s.write(" received from the related Certificate Authority.")
            s.write("")
            if not (yield from s.ask_yes_no("Are you sure you want to do this? [yes/no]:")):
                return
            s.write("% Be sure to ask the CA administrator to revoke your certificates.")
        # The certificates (and a request saved for a resend after a power loss) go with
        # the trustpoint; its key pair stays: IOS removes keys only with `crypto key
        # zeroize rsa` (cisco-client-docs.md 1.2).
        del router.running.trustpoints[name]
        pki_storage.drop_pending(router.nvram, name)
        return
    if (name not in router.running.trustpoints and router.release.trustpoint_create_syslog
            and not s.booting):
        # chosen: logged as the trustpoint is created (entering the mode), not at boot.
        router.log(TRUSTPOINT_CREATE.format(name=name))
    router.running.trustpoints.setdefault(name, Trustpoint(name))
    s.mode, s.context = Mode.TRUSTPOINT, name


def _certificate_chain(s: Session, m: Match) -> None:
    name = str(m.args["name"])
    s.router.running.trustpoints.setdefault(name, Trustpoint(name))
    s.mode, s.context = Mode.CERT_CHAIN, name


def _cs_server(s: Session, m: Match) -> SimProcess[None]:
    name = str(m.args["name"])
    router = s.router
    if m.negated:
        cs = router.running.servers.get(name)
        if cs is None:
            s.write(f"Certificate server '{name}' is not known")
            return
        if not s.booting:
            ok = yield from s.ask_yes_no("CA certificate, Keypair, CRL and database files will "
                                         "be deleted. Do you wish to continue? [yes/no]:")
            if not ok:
                return
        # What goes is what the question names (cisco-cs.md 4 [V-cisco]): the server, its
        # key pair, its CA certificate, CRL and database files. The trustpoint of the same
        # name "is left behind" [V blog]; chosen: emptied of its certificates (the CA's is
        # deleted), and the server's timers and one-time password go with it.
        del router.running.servers[name]
        router.server_host.forget(name)
        router.running.keys.remove(name)
        router.server_host.storage.delete_files(cs)
        tp = router.running.trustpoints.get(name)
        if tp is not None:
            tp.ca_cert = None
            tp.id_cert = None
        router.emit("cs", "deleted", server=name)
        return
    if name not in router.running.servers:
        if len(name) > 13:
            s.write("% Certificate server name is too long (maximum 13 characters).")
            return
        if router.running.servers:
            s.write("% Only one certificate server is supported.")
            return
        # A saved server comes back up at boot unless the saved config says `shutdown`.
        router.running.servers[name] = CertificateServer(
            router.release.cs_config(name, shutdown=not s.booting))
        router.server_host.start_timers(router.running.servers[name])
        router.emit("cs", "created", server=name)
        if s.booting:
            _hold_if_key_too_short(s, router.running.servers[name])
    s.mode, s.context = Mode.CS_SERVER, name


GLOBAL_EXITS: CommandTable = [
    ("end", _end, {}),
]
"""What every configuration mode accepts (`do LINE` too: `sim.router.commands` adds it,
since it runs an EXEC command)."""

def _accepted(s: Session, m: Match) -> None:
    """Lines IOS writes into every saved config that pkilab has nothing to model for."""


CONFIG_COMMANDS = GLOBAL_EXITS + CONFIG_PKI_COMMANDS + [
    ("exit", _exit_config, {}),
    ("version <version:WORD>", _accepted, {}),
    ("service timestamps {debug|log} datetime msec", _accepted, {"no_form": True}),
    ("hostname <name:WORD>", _hostname, {"no_form": True}),
    ("clock timezone <zone:WORD> <hours:-23-23> [<minutes:0-59>]", _clock_timezone,
     {"no_form": True}),
    ("ip http server", _http_server, {"no_form": True}),
    ("ip host <host:WORD> <addr:A.B.C.D>", _ip_host, {"no_form": True}),
    ("ip domain-name <name:WORD>", _domain_name, {"no_form": True}),
    ("ip domain name <name:WORD>", _domain_name, {"no_form": True}),
    ("ip domain-lookup", _domain_lookup, {"no_form": True}),
    ("ip domain lookup", _domain_lookup, {"no_form": True}),
    ("crypto pki trustpoint <name:LABEL>", _trustpoint,
     {"no_form": True, "no_requires_args": True}),
    ("crypto pki certificate chain <name:LABEL>", _certificate_chain, {}),
    ("crypto pki server <name:LABEL>", _cs_server, {"no_form": True, "no_requires_args": True}),
]


# -- ca-trustpoint mode --------------------------------------------------------------------
def _checked_dn(s: Session, m: Match) -> str | None:
    """The `dn` argument if it is a distinguished name pkilab can put in a certificate;
    otherwise None, and the console says why."""
    dn = str(m.args["dn"])
    try:
        parse_dn(dn)
    except ValueError as bad:
        s.write(f"% {bad}")
        return None
    return dn


def _tp(s: Session) -> Trustpoint:
    return s.router.running.trustpoints[s.context or ""]


def _tp_setter(attribute: str, arg: str | None, negated_value: Any = None) -> Any:
    def handler(s: Session, m: Match) -> None:
        value = negated_value if m.negated else (m.args[arg] if arg else True)
        setattr(_tp(s), attribute, value)
    return handler


def _subject_name(s: Session, m: Match) -> None:
    """`subject-name DN`: checked as it is typed, with the wording IOS-XE uses for a bad
    `issuer-name` ("<name> is not a valid subject name", cisco-cs.md 3), so that the
    enrollment that builds the request from it later cannot fail on it."""
    if m.negated:
        _tp(s).subject_name = None
        return
    dn = _checked_dn(s, m)
    if dn is not None:
        _tp(s).subject_name = dn


def _rsakeypair(s: Session, m: Match) -> None:
    """`rsakeypair LABEL [KEY-SIZE]`: the key pair this trustpoint enrolls with, and the
    modulus it gets if enrollment has to generate it ("If the size is not specified, the
    existing key size is used", IOS command reference).

    IOS also takes a third number, ENCRYPTION-KEY-SIZE, which asks for special-usage
    (separate signature and encryption) keys; the keys enrollment generates are
    general-purpose in pkilab, so that form is refused as invalid input (make usage keys
    with `crypto key generate rsa usage-keys` and name them here instead).
    """
    tp = _tp(s)
    bits = m.args.get("bits")
    if isinstance(bits, int) and not m.negated and bits > s.router.release.key_modulus_max:
        _refuse_last_token(s)  # above the release's `<360-2048>` (see `handlers_keys`)
        return
    tp.rsakeypair = None if m.negated else str(m.args["label"])
    tp.rsakeypair_bits = bits if isinstance(bits, int) and not m.negated else None


def _revocation_check(s: Session, m: Match) -> None:
    """`revocation-check METHOD1 [METHOD2 [METHOD3]]`: IOS tries the methods in order,
    `none` last meaning "accept when the others cannot tell" (`revocation-check crl none`,
    cisco-client-docs.md); kept in the order typed."""
    methods = [word for word in m.keywords[1:] if word in tuple(RevocationMethod)]
    _tp(s).revocation_check = () if m.negated else methods_of(methods)


FINGERPRINT_DIGITS = {32: "MD5", 40: "SHA1"}
"""The fingerprints `crypto pki authenticate` prints, by hex length (cisco-cs.md 15)."""


def _serial_number(s: Session, m: Match) -> None:
    """`serial-number [none]`: put the router's serial number in every request, or never;
    either way `crypto pki enroll` stops asking (cisco-cs.md 15)."""
    _tp(s).serial_number = None if m.negated else "none" not in m.keywords


def _ip_address(s: Session, m: Match) -> None:
    """`ip-address {A.B.C.D | INTERFACE | none}`: the address every request carries (an
    interface: this router's address, as the dialogue's answer does), or none; either way
    `crypto pki enroll` stops asking (cisco-cs.md 15)."""
    if m.negated:
        _tp(s).ip_address = None
        return
    given = str(m.args["where"])
    address = normalise_address(given)
    if given.lower() == "none" or address is not None or looks_like_interface(given):
        _tp(s).ip_address = "none" if given.lower() == "none" else address or given
        return
    s.write("% Bad interface or address.")  # the dialogue's wording, without "Try again."


def _password(s: Session, m: Match) -> None:
    """`password [0|7] PW`: the challenge password requests carry; `crypto pki enroll`
    stops asking for one (cisco-client-docs.md 2). Saved in type 7, as the archive
    password is."""
    if m.negated:
        _tp(s).password = None
        return
    password: str | None = str(m.args["password"])
    if "7" in m.keywords[m.keywords.index("password"):]:
        password = password7.decode(str(password))
        if password is None:
            s.write("% Invalid encrypted password.")
            return
    _tp(s).password = password


def _fingerprint(s: Session, m: Match) -> None:
    """`fingerprint HEX`: the CA certificate's fingerprint, checked at authentication
    instead of the accept question (cisco-client-docs.md 2). The MD5 or SHA-1 digest as
    `crypto pki authenticate` prints it, with or without its spaces between 8-digit
    groups; kept upper-case and unspaced (chosen). The refusal's wording is pkilab's."""
    if m.negated:
        _tp(s).fingerprint = None
        return
    digits = "".join(str(m.args["hex"]).split()).upper()
    if (len(digits) not in FINGERPRINT_DIGITS
            or any(c not in "0123456789ABCDEF" for c in digits)):
        s.write("% A fingerprint is the CA certificate's MD5 (32 hex digits) or SHA1 "
                "(40 hex digits) fingerprint.")
        return
    _tp(s).fingerprint = digits


TRUSTPOINT_COMMANDS = GLOBAL_EXITS + [
    ("exit", _exit_submode, {}),
    ("enrollment retry period <minutes:1-60>",
     _tp_setter("retry_period_minutes", "minutes", 1), {"no_form": True}),
    ("enrollment retry count <count:1-100>",
     _tp_setter("retry_count", "count", 10), {"no_form": True}),
    ("subject-name <dn:LINE>", _subject_name, {"no_form": True}),
    ("revocation-check {crl|none|ocsp} [{crl|none|ocsp}] [{crl|none|ocsp}]", _revocation_check,
     {"no_form": True}),
    ("rsakeypair <label:LABEL> [<bits:360-4096>]", _rsakeypair, {"no_form": True}),
    ("fingerprint <hex:LINE>", _fingerprint, {"no_form": True}),
    ("serial-number [none]", _serial_number, {"no_form": True}),
    ("ip-address <where:WORD>", _ip_address, {"no_form": True}),
    ("password [{0|7}] <password:WORD>", _password, {"no_form": True}),
]


# -- cs-server mode --------------------------------------------------------------------------
def _range(bounds: tuple[int, int]) -> str:
    """A pattern's `LOW-HIGH` argument type from the server's documented bounds."""
    return f"{bounds[0]}-{bounds[1]}"


def current_server(s: Session) -> CertificateServer:
    """The server whose cs-server mode the session is in."""
    return s.router.running.servers[s.context or ""]


def server_editable(s: Session, cs: CertificateServer, *, frozen_after_cert: bool = False
                    ) -> bool:
    """Whether a cs-server setting may change now, saying why not: only while the server is
    shut (`LOCKED_MESSAGE`), and a setting its CA certificate is built from only until that
    certificate exists (`FROZEN_MESSAGE`). A boot replays the saved configuration freely."""
    if s.booting:
        return True
    if cs.locked:
        s.write(LOCKED_MESSAGE)
        return False
    if frozen_after_cert and cs.ca_cert is not None:
        s.write(FROZEN_MESSAGE)
        return False
    return True


def _issuer_name(s: Session, m: Match) -> None:
    cs = current_server(s)
    if not server_editable(s, cs, frozen_after_cert=True):
        return
    if m.negated:
        cs.configure(issuer_name=None)
        return
    dn = _checked_dn(s, m)
    if dn is not None:
        cs.configure(issuer_name=dn)


def _grant(s: Session, m: Match) -> None:
    cs = current_server(s)
    if not server_editable(s, cs):
        return
    grant = "manual" if m.negated else m.keywords[-1]
    # `grant auto` and `grant none` replace a `grant auto trustpoint|tp-list` (handlers_cs_life).
    cs.configure(grant=grant, grant_trustpoints=(), grant_tp_list=False)
    if grant in ("auto", "none") and not s.booting:
        s.router.log(GRANT_AUTO_SYSLOG if grant == "auto" else REJECT_AUTO_SYSLOG)


def _lifetime(s: Session, m: Match) -> None:
    """`lifetime {crl|enrollment-request} HOURS [MINUTES]` (the day lifetimes are
    `sim.router.handlers_cs_life`'s). The parser holds each number to its range; a total
    of zero (`lifetime crl 0`) is refused the same way, with the caret under the last
    number: IOS's ranges start at 1 hour for 12.3's hours-only form, and a zero lifetime
    would republish the CRL (or expire every request) at once."""
    cs = current_server(s)
    kind = m.keywords[1]
    if not server_editable(s, cs):
        return
    defaults = s.router.release.cs_config(cs.name)
    total = m.integer("hours", 0) * 60 + m.integer("minutes", 0)
    if not m.negated and total == 0:
        _refuse_last_token(s)
        return
    if kind == "crl":
        cs.configure(lifetime_crl_minutes=(
            defaults.lifetime_crl_minutes if m.negated else total))
    else:
        cs.configure(lifetime_enrollment_request_minutes=(
            defaults.lifetime_enrollment_request_minutes if m.negated else total))


def _refuse_last_token(s: Session) -> None:
    """`% Invalid input detected at '^' marker.` under the last word of the typed line."""
    line = s.current_line.rstrip()
    column = len(line) - len(line.split()[-1])
    s.render_error(ParseError("invalid", column, line[column:], s.current_line))


def _database_level(s: Session, m: Match) -> None:
    cs = current_server(s)
    if server_editable(s, cs):
        cs.configure(database_level=DatabaseLevel.MINIMUM if m.negated
                     else DatabaseLevel(m.keywords[-1]))


def _database_url(s: Session, m: Match) -> None:
    cs = current_server(s)
    if not server_editable(s, cs):
        return
    url = "nvram:" if m.negated else str(m.args["url"])
    if url != cs.config.database_url and not s.booting:
        s.write("% Server database url was changed. You need to move the")
        s.write("% existing database to the new location.")
    cs.configure(database_url=url)


def _database_archive(s: Session, m: Match) -> None:
    """`database archive {pkcs12|pem} [password [0|7] PW]` (cisco-cs.md 3): with a password
    the first `no shutdown` asks no passphrase and protects the archive with PW. `7` means
    PW is the obfuscated form the running configuration shows (`password7`)."""
    cs = current_server(s)
    if not server_editable(s, cs):
        return
    if m.negated:
        cs.configure(database_archive=None, database_archive_password=None)
        return
    fmt = ArchiveFormat.PEM if "pem" in m.keywords else ArchiveFormat.PKCS12
    password = m.args.get("password")
    if password is not None and "7" in m.keywords[m.keywords.index("password"):]:
        password = password7.decode(str(password))
        if password is None:
            # chosen: pkilab's wording (IOS's answer to a bad type-7 string was not captured).
            s.write("% Invalid encrypted password.")
            return
    cs.configure(database_archive=fmt,
                 database_archive_password=None if password is None else str(password))


def _hash(s: Session, m: Match) -> None:
    cs = current_server(s)
    if not server_editable(s, cs):
        return
    name = SignatureHash.SHA256 if m.negated else SignatureHash(m.keywords[-1])
    if s.booting:
        cs.configure(hash=name)
        _hold_if_key_too_short(s, cs)
    elif _key_signs_with(s, cs, name):
        cs.configure(hash=name)


def _key_signs_with(s: Session, cs: CertificateServer, hash_name: str) -> bool:
    """The server's key pair (if it has one yet) is long enough to sign with `hash_name`;
    says why not otherwise (pkilab's wording: IOS 12.3 only ever signed with MD5, which
    its smallest key, 360 bits, can carry)."""
    pair = s.router.running.keys.get(cs.name)
    need = min_signing_bits(hash_name)
    if pair is None or pair.bits >= need:
        return True
    s.write(f"% The key pair {cs.name} has {pair.bits} bits, too few to sign with "
            f"{hash_name}: it needs at least {need}.")
    return False


def _hold_if_key_too_short(s: Session, cs: CertificateServer) -> None:
    """Boot: a saved server comes up by itself unless it is `shutdown`; one whose key cannot
    sign with its hash (a startup-config that generates a 360-bit key for it) stays down,
    with the reason on the console, instead of failing to sign its CA certificate."""
    if not _key_signs_with(s, cs, cs.config.hash):
        cs.configure(shutdown=True)


def _mode(s: Session, m: Match) -> None:
    cs = current_server(s)
    if m.negated and cs.ca_cert is not None:
        return  # "no mode sub-cs will have no effect if the server has been configured"
    if server_editable(s, cs, frozen_after_cert=True):
        cs.configure(mode=CsMode.ROOT if m.negated else CsMode.SUB_CS)


def _shutdown(s: Session, m: Match) -> SimProcess[None]:
    cs = current_server(s)
    router = s.router
    cs.configure(shutdown=not m.negated)
    if s.booting:
        if m.negated:
            _hold_if_key_too_short(s, cs)
        return
    if not m.negated:
        if cs.state in (CsState.INITIAL, CsState.DISABLED):
            return
        s.write("Certificate server 'shut' event has been queued for processing.")
        yield from router.server_host.run_signal(cs, CsSignal.SHUT)
        return
    if cs.state is CsState.ENABLED:
        return
    if not _key_signs_with(s, cs, cs.config.hash):
        cs.configure(shutdown=True)
        return
    if cs.ca_cert is not None:
        s.write("Certificate server 'no shut' event has been queued for processing.")
        yield from router.server_host.run_signal(cs, CsSignal.NO_SHUT)
        return
    s.write("%Some server settings cannot be changed after CA certificate generation.")
    archive_password = cs.config.database_archive_password
    if cs.config.database_archive and archive_password:
        # "with a configured archive password, first `no shutdown` ... does not prompt"
        # (cisco-cs.md 3 [V T-17, T-13, T-15]).
        yield from router.server_host.run_signal(cs, CsSignal.NO_SHUT, archive_password)
        return
    if (router.running.keys.get(cs.name) is not None
            and not router.release.passphrase_with_existing_key):
        yield from router.server_host.run_signal(cs, CsSignal.NO_SHUT)
        return
    yield from _no_shut_with_passphrase(s, cs)


def _no_shut_with_passphrase(s: Session, cs: CertificateServer) -> SimProcess[None]:
    """First `no shutdown`: the passphrase dialogue around the FSM's `no shut` (seed)."""
    router = s.router
    s.write("% Please enter a passphrase to protect the private key")
    s.write("% or type Return to exit")
    try:
        first = yield from s.ask("Password:", secret=True)
    except AbortCommand:  # Ctrl-C at a live console: like Return, the server stays shut
        first = ""
    if not first:
        s.write("% Aborted.")
        cs.configure(shutdown=True)
        return
    with router.server_host.lock.request() as turn:
        yield turn
        yield from router.server_host.apply(cs, cs.enter(CsSignal.NO_SHUT))
        try:
            again: str | None = yield from s.ask("Re-enter password:", secret=True)
        except AbortCommand:  # Ctrl-C: the entered `no shut` must be dropped all the same
            again = None
        if again != first:
            s.write("% Aborted." if again is None else "% Passwords do not match.")
            cs.configure(shutdown=True)
            yield from router.server_host.apply(cs, cs.abort_no_shut())
            return
        yield from router.server_host.storage.prefetch(cs)
        yield from router.server_host.apply(cs, cs.complete(router.server_host.context(cs, first)))


def _cs_show(s: Session, m: Match) -> None:
    """`show` in cs-server mode: the server's settings, defaults included."""
    s.write_lines(show_cs_settings(current_server(s)))


CS_COMMANDS = GLOBAL_EXITS + [
    ("exit", _exit_submode, {}),
    ("show", _cs_show, {}),
    ("issuer-name <dn:LINE>", _issuer_name, {"no_form": True}),
    ("grant {auto|none}", _grant, {"no_form": True}),
    (f"lifetime crl <hours:{_range(LIFETIME_CRL_HOURS)}> "
     f"[<minutes:{_range(LIFETIME_MINUTES)}>]", _lifetime, {"no_form": True}),
    (f"lifetime enrollment-request <hours:{_range(LIFETIME_ENROLLMENT_REQUEST_HOURS)}> "
     f"[<minutes:{_range(LIFETIME_MINUTES)}>]", _lifetime, {"no_form": True}),
    ("database level {minimum|names|complete}", _database_level, {"no_form": True}),
    ("database url <url:WORD>", _database_url, {"no_form": True}),
    ("database archive {pkcs12|pem} [password [{0|7}] <password:WORD>]", _database_archive,
     {"no_form": True}),
    ("hash {md5|sha1|sha256|sha384|sha512}", _hash, {"no_form": True}),
    ("mode sub-cs", _mode, {"no_form": True}),
    ("shutdown", _shutdown, {"no_form": True}),
]
