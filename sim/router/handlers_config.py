"""Configuration-mode commands: global config, `ca-trustpoint` and `cs-server` modes."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from sim.pki.cs_fsm import CsSignal, CsState
from sim.pki.cs_server import CertificateServer, CsConfig
from sim.pki.keys import ios_keygen_seconds
from sim.router.cli_parser import Match
from sim.router.console import Mode, Session
from sim.router.handlers_pki import CONFIG_PKI_COMMANDS
from sim.router.keystore import KeyPair
from sim.router.router import Trustpoint

LOCKED_MESSAGE = "% Server's configuration is locked (enter \"shut\" to unlock it)"
"""IOS's wording for editing a locked server was never captured; this mirrors the lock
line `show crypto pki server` prints."""
FROZEN_MESSAGE = "% This setting cannot be changed after CA certificate generation."


# -- leaving modes -----------------------------------------------------------------------
def _end(s: Session, m: Match) -> None:
    s.mode, s.context = Mode.EXEC, None
    s.router.log("%SYS-5-CONFIG_I: Configured from console by console")


def _exit_config(s: Session, m: Match) -> None:
    _end(s, m)


def _exit_submode(s: Session, m: Match) -> None:
    s.mode, s.context = Mode.CONFIG, None


def _do(s: Session, m: Match) -> Generator[Any, Any, None]:
    from sim.router.commands import run_exec_line

    rest = str(m.args["line"])
    # The LINE argument is the verbatim tail of the typed line: find where it starts so
    # a caret for an error in the EXEC command lands under the right character.
    offset = s.current_line.rfind(rest)
    yield from run_exec_line(s, rest, max(offset, 0))


# -- global configuration ----------------------------------------------------------------
def _hostname(s: Session, m: Match) -> None:
    s.router.hostname = "Router" if m.negated else str(m.args["name"])


def _http_server(s: Session, m: Match) -> None:
    s.router.set_http_server(not m.negated)


def _ip_host(s: Session, m: Match) -> None:
    name = str(m.args["host"])
    if m.negated:
        s.router.hosts.remove(name)
    elif "addr" in m.args:
        s.router.hosts.add(name, str(m.args["addr"]))


def _domain_name(s: Session, m: Match) -> None:
    s.router.domain_name = None if m.negated else str(m.args["name"])


def _domain_lookup(s: Session, m: Match) -> None:
    s.router.domain_lookup = not m.negated


def _trustpoint(s: Session, m: Match) -> Generator[Any, Any, None]:
    name = str(m.args["name"])
    router = s.router
    if m.negated:
        tp = router.trustpoints.get(name)
        if tp is None:
            s.write(f"% Certificate Authority (trustpoint) {name} is unknown")
            return
        if (tp.ca_cert or tp.id_cert) and not s.booting:
            s.write("% Removing an enrolled trustpoint will destroy all certificates")
            s.write(" received from the related Certificate Authority.")
            s.write("")
            if not (yield from s.ask_yes_no("Are you sure you want to do this? [yes/no]:")):
                return
            s.write("% Be sure to ask the CA administrator to revoke your certificates.")
        del router.trustpoints[name]
        return
    router.trustpoints.setdefault(name, Trustpoint(name))
    s.mode, s.context = Mode.TRUSTPOINT, name


def _certificate_chain(s: Session, m: Match) -> None:
    name = str(m.args["name"])
    s.router.trustpoints.setdefault(name, Trustpoint(name))
    s.mode, s.context = Mode.CERT_CHAIN, name


def _cs_server(s: Session, m: Match) -> Generator[Any, Any, None]:
    name = str(m.args["name"])
    router = s.router
    if m.negated:
        cs = router.servers.get(name)
        if cs is None:
            s.write(f"Certificate server '{name}' is not known")
            return
        if not s.booting:
            ok = yield from s.ask_yes_no("CA certificate, Keypair, CRL and database files will "
                                         "be deleted. Do you wish to continue? [yes/no]:")
            if not ok:
                return
        del router.servers[name]
        driver = router.timers.pop(name, None)
        if driver is not None:
            driver.stop()
        router.keys.remove(name)
        for suffix in (".ser", ".crl", ".p12"):
            router.nvram.delete(name + suffix)
        tp = router.trustpoints.get(name)
        if tp is not None:
            tp.ca_cert = None
            tp.id_cert = None
        router.emit("cs", "deleted", server=name)
        return
    if name not in router.servers:
        if len(name) > 13:
            s.write("% Certificate server name is too long (maximum 13 characters).")
            return
        if router.servers:
            s.write("% Only one certificate server is supported.")
            return
        # A saved server comes back up at boot unless the saved config says `shutdown`.
        router.servers[name] = CertificateServer(CsConfig(name, shutdown=not s.booting))
        router.server_timers(router.servers[name])
        router.emit("cs", "created", server=name)
    s.mode, s.context = Mode.CS_SERVER, name


def _key_generate(s: Session, m: Match) -> Generator[Any, Any, None]:
    router = s.router
    label = str(m.args.get("label") or router.fqdn)
    if router.keys.get(label) is not None:
        s.write(f"% You already have RSA keys defined named {label}.")
        if not (yield from s.ask_yes_no("% Do you really want to replace them? [yes/no]:")):
            return
    s.write(f"The name for the keys will be: {label}")
    bits = m.args.get("bits")
    if bits is None:
        s.write("Choose the size of the key modulus in the range of 360 to 2048 for your")
        s.write("  General Purpose Keys. Choosing a key modulus greater than 512 may take")
        s.write("  a few minutes.")
        s.write("")
        answer = (yield from s.ask("How many bits in the modulus [512]:")).strip()
        if not answer:
            bits = 512
        elif answer.isdigit() and 360 <= int(answer) <= 2048:
            bits = int(answer)
        else:
            s.write("% Invalid modulus size; use a value from 360 to 2048.")
            return
    else:
        s.write(f"% The key modulus size is {bits} bits")
    bits = int(bits)  # type: ignore[arg-type]
    s.write(f"% Generating {bits} bit RSA keys ...")
    yield router.env.timeout(ios_keygen_seconds(bits))
    key = router.generate_key(label, bits)
    router.keys.put(KeyPair(label, key, "exportable" in m.keywords))
    router.key_times[label] = router.clock.timestamp()
    router.emit("pki", "key.generated", label=label, bits=bits)
    router.console_inline("[OK]")


GLOBAL_EXITS = [
    ("end", _end, {}),
    ("do <line:LINE>", _do, {}),
]

def _accepted(s: Session, m: Match) -> None:
    """Lines IOS writes into every saved config that pkilab has nothing to model for."""


CONFIG_COMMANDS = GLOBAL_EXITS + CONFIG_PKI_COMMANDS + [
    ("exit", _exit_config, {}),
    ("version <version:WORD>", _accepted, {}),
    ("service timestamps {debug|log} datetime msec", _accepted, {"no_form": True}),
    ("hostname <name:WORD>", _hostname, {"no_form": True}),
    ("ip http server", _http_server, {"no_form": True}),
    ("ip host <host:WORD> <addr:A.B.C.D>", _ip_host, {"no_form": True}),
    ("ip domain-name <name:WORD>", _domain_name, {"no_form": True}),
    ("ip domain name <name:WORD>", _domain_name, {"no_form": True}),
    ("ip domain-lookup", _domain_lookup, {"no_form": True}),
    ("ip domain lookup", _domain_lookup, {"no_form": True}),
    ("crypto pki trustpoint <name:WORD>", _trustpoint,
     {"no_form": True, "no_requires_args": True}),
    ("crypto pki certificate chain <name:WORD>", _certificate_chain, {}),
    ("crypto pki server <name:WORD>", _cs_server, {"no_form": True, "no_requires_args": True}),
    ("crypto key generate rsa [general-keys] [label <label:WORD>] [exportable] "
     "[modulus <bits:360-4096>]", _key_generate, {}),
]


# -- ca-trustpoint mode --------------------------------------------------------------------
def _tp(s: Session) -> Trustpoint:
    return s.router.trustpoints[s.context or ""]


def _tp_setter(attribute: str, arg: str | None, negated_value: Any = None) -> Any:
    def handler(s: Session, m: Match) -> None:
        value = negated_value if m.negated else (m.args[arg] if arg else True)
        setattr(_tp(s), attribute, value)
    return handler


def _auto_enroll(s: Session, m: Match) -> None:
    """`auto-enroll [percent]`: renew at that share of the certificate's life (IOS's default
    when no percent is given is at expiry; pkilab takes 80, the figure Cisco's examples use)."""
    _tp(s).auto_enroll_percent = None if m.negated else int(m.args.get("percent") or 80)  # type: ignore[arg-type]


def _revocation_check(s: Session, m: Match) -> None:
    _tp(s).revocation_check = None if m.negated else m.keywords[-1]


TRUSTPOINT_COMMANDS = GLOBAL_EXITS + [
    ("exit", _exit_submode, {}),
    ("enrollment url <url:WORD>", _tp_setter("enrollment_url", "url"), {"no_form": True}),
    ("enrollment retry period <minutes:1-60>",
     _tp_setter("retry_period_minutes", "minutes", 1), {"no_form": True}),
    ("enrollment retry count <count:1-100>",
     _tp_setter("retry_count", "count", 10), {"no_form": True}),
    ("subject-name <dn:LINE>", _tp_setter("subject_name", "dn"), {"no_form": True}),
    ("revocation-check {crl|none|ocsp}", _revocation_check, {"no_form": True}),
    ("rsakeypair <label:WORD> [<bits:360-4096>]", _tp_setter("rsakeypair", "label"),
     {"no_form": True}),
    ("auto-enroll [<percent:1-100>]", _auto_enroll, {"no_form": True}),
]


# -- cs-server mode --------------------------------------------------------------------------
def _cs(s: Session) -> CertificateServer:
    return s.router.servers[s.context or ""]


def _editable(s: Session, cs: CertificateServer, *, frozen_after_cert: bool = False) -> bool:
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
    from sim.pki.x509util import parse_dn

    cs = _cs(s)
    if not _editable(s, cs, frozen_after_cert=True):
        return
    if m.negated:
        cs.configure(issuer_name=None)
        return
    dn = str(m.args["dn"])
    try:
        parse_dn(dn)
    except ValueError as bad:
        s.write(f"% {bad}")
        return
    cs.configure(issuer_name=dn)


def _grant(s: Session, m: Match) -> None:
    cs = _cs(s)
    if not _editable(s, cs):
        return
    grant = "manual" if m.negated else m.keywords[-1]
    cs.configure(grant=grant)
    if grant == "auto" and not s.booting:
        s.router.log("%PKI-6-CS_GRANT_AUTO: All enrollment requests will be automatically "
                     "granted.")


def _lifetime(s: Session, m: Match) -> None:
    cs = _cs(s)
    kind = m.keywords[1]
    if not _editable(s, cs, frozen_after_cert=kind == "ca-certificate"):
        return
    defaults = CsConfig(cs.name)
    if kind == "ca-certificate":
        days = defaults.lifetime_ca_certificate_days if m.negated else m.args["days"]
        cs.configure(lifetime_ca_certificate_days=days)
    elif kind == "certificate":
        days = defaults.lifetime_certificate_days if m.negated else m.args["days"]
        cs.configure(lifetime_certificate_days=days)
    else:
        default = (defaults.lifetime_crl_minutes if kind == "crl"
                   else defaults.lifetime_enrollment_request_minutes)
        total = default if m.negated else (int(m.args["hours"]) * 60  # type: ignore[arg-type]
                                           + int(m.args.get("minutes") or 0))  # type: ignore[arg-type]
        if kind == "crl":
            cs.configure(lifetime_crl_minutes=total)
        else:
            cs.configure(lifetime_enrollment_request_minutes=total)


def _database_level(s: Session, m: Match) -> None:
    cs = _cs(s)
    if _editable(s, cs):
        cs.configure(database_level="minimum" if m.negated else m.keywords[-1])


def _database_url(s: Session, m: Match) -> None:
    cs = _cs(s)
    if not _editable(s, cs):
        return
    url = "nvram:" if m.negated else str(m.args["url"])
    if url != cs.config.database_url and not s.booting:
        s.write("% Server database url was changed. You need to move the")
        s.write("% existing database to the new location.")
    cs.configure(database_url=url)


def _database_archive(s: Session, m: Match) -> None:
    cs = _cs(s)
    if _editable(s, cs):
        cs.configure(database_archive=None if m.negated else m.keywords[-1])


def _hash(s: Session, m: Match) -> None:
    cs = _cs(s)
    if _editable(s, cs):
        cs.configure(hash="sha256" if m.negated else m.keywords[-1])


def _mode(s: Session, m: Match) -> None:
    cs = _cs(s)
    if m.negated and cs.ca_cert is not None:
        return  # "no mode sub-cs will have no effect if the server has been configured"
    if _editable(s, cs, frozen_after_cert=True):
        cs.configure(mode="root" if m.negated else "sub-cs")


def _shutdown(s: Session, m: Match) -> Generator[Any, Any, None]:
    cs = _cs(s)
    router = s.router
    cs.configure(shutdown=not m.negated)
    if s.booting:
        return
    if not m.negated:
        if cs.state in (CsState.INITIAL, CsState.DISABLED):
            return
        s.write("Certificate server 'shut' event has been queued for processing.")
        yield from router.run_signal(cs, CsSignal.SHUT)
        return
    if cs.state is CsState.ENABLED:
        return
    if cs.ca_cert is not None:
        s.write("Certificate server 'no shut' event has been queued for processing.")
        yield from router.run_signal(cs, CsSignal.NO_SHUT)
        return
    s.write("%Some server settings cannot be changed after CA certificate generation.")
    if router.keys.get(cs.name) is not None:
        yield from router.run_signal(cs, CsSignal.NO_SHUT)
        return
    yield from _no_shut_with_passphrase(s, cs)


def _no_shut_with_passphrase(s: Session, cs: CertificateServer) -> Generator[Any, Any, None]:
    """First `no shutdown`: the passphrase dialogue around the FSM's `no shut` (seed)."""
    router = s.router
    s.write("% Please enter a passphrase to protect the private key")
    s.write("% or type Return to exit")
    first = yield from s.ask("Password:", secret=True)
    if not first:
        s.write("% Aborted.")
        cs.configure(shutdown=True)
        return
    with router.cs_lock.request() as turn:
        yield turn
        yield from router.apply(cs, cs.enter(CsSignal.NO_SHUT))
        again = yield from s.ask("Re-enter password:", secret=True)
        if again != first:
            s.write("% Passwords do not match.")
            cs.configure(shutdown=True)
            yield from router.apply(cs, cs.abort_no_shut())
            return
        yield from router.apply(cs, cs.complete(router.cs_context(cs, first)))


CS_COMMANDS = GLOBAL_EXITS + [
    ("exit", _exit_submode, {}),
    ("issuer-name <dn:LINE>", _issuer_name, {"no_form": True}),
    ("grant {auto|none}", _grant, {"no_form": True}),
    ("lifetime {ca-certificate|certificate} <days:1-7305>", _lifetime, {"no_form": True}),
    ("lifetime {crl|enrollment-request} <hours:0-1000> [<minutes:0-59>]", _lifetime,
     {"no_form": True}),
    ("database level {minimum|names|complete}", _database_level, {"no_form": True}),
    ("database url <url:WORD>", _database_url, {"no_form": True}),
    ("database archive {pkcs12|pem}", _database_archive, {"no_form": True}),
    ("hash {md5|sha1|sha256|sha384|sha512}", _hash, {"no_form": True}),
    ("mode sub-cs", _mode, {"no_form": True}),
    ("shutdown", _shutdown, {"no_form": True}),
]
