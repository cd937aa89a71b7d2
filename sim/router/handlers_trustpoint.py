"""`ca-trustpoint` options that shape a request or say how to reach the CA, the 12.3
`crypto ca ...` spellings of the trustpoint commands, and the cut-and-paste commands.

The options (cisco-client-docs.md 2, cisco-cs.md 15): `enrollment url|terminal [pem]|
mode ra|selfsigned`, `fqdn`, `usage`, `eku request`, `subject-alt-name`, `hash`,
`source interface`, `vrf`, `auto-enroll [PCT] [regenerate]`, and `show`, which prints
the trustpoint's configuration as it stands. The older options (`subject-name`,
`serial-number`, `password`, ...) stay in `sim.router.handlers_config`.

"Since 12.3(7)T every `crypto ca ...` command is `crypto pki ...`; the parser still
accepts `crypto ca` but the configuration is written back as `crypto pki`"
(cisco-client-docs.md, General): `ca_aliases` gives the `crypto pki` commands again under
`crypto ca`, with the same handlers, so running-config shows them as `crypto pki`.
"""

from __future__ import annotations

from sim.kernel.process import SimProcess
from sim.pki.cs_settings import SignatureHash
from sim.router import terminal_enroll
from sim.router.cli_parser import Match, ParseError
from sim.router.command_table import CommandTable
from sim.router.console import Session
from sim.router.handlers_config import CONFIG_COMMANDS
from sim.router.handlers_pki import known_trustpoint, looks_like_interface, not_run_at_boot
from sim.router.show import trustpoint_config
from sim.router.state import Trustpoint
from sim.router.trustpoint_settings import TerminalFormat, TrustpointUsage

EKU_KEYWORDS = ("client-auth", "code-signing", "email-protection", "ipsec-end-system",
                "ipsec-tunnel", "ipsec-user", "ocsp-signing", "server-auth", "ssh-client",
                "ssh-server", "time-stamping")
"""`eku request`'s keywords; `sim.pki.request_shape.EKU_PURPOSES` maps each to its OID."""


def _tp(s: Session) -> Trustpoint:
    return s.router.running.trustpoints[s.context or ""]


def _refuse_at(s: Session, column: int) -> None:
    """`% Invalid input detected at '^' marker.` under the word starting at `column`."""
    line = s.current_line
    s.render_error(ParseError("invalid", column, line[column:].split()[0], line))


# -- enrollment method ---------------------------------------------------------------------
def _enrollment_url(s: Session, m: Match) -> None:
    """`enrollment url URL`. A trustpoint enrolls one way: chosen, as IOS's configuration
    keeps one `enrollment` method line, a URL replaces `enrollment terminal` and
    `enrollment selfsigned` (and they replace it)."""
    tp = _tp(s)
    if m.negated:
        tp.enrollment_url = None
        return
    tp.enrollment_url = str(m.args["url"])
    tp.options.enrollment_terminal = None
    tp.options.enrollment_selfsigned = False


def _enrollment_terminal(s: Session, m: Match) -> None:
    """`enrollment terminal [pem]`: cut-and-paste enrollment (`sim.router.terminal_enroll`):
    `crypto pki authenticate` reads the pasted CA certificate, `crypto pki enroll` prints
    the request (with `pem`, between PEM header lines), `crypto pki import TP
    certificate` reads the granted certificate back."""
    tp = _tp(s)
    if m.negated:
        tp.options.enrollment_terminal = None
        return
    tp.options.enrollment_terminal = (TerminalFormat.PEM if "pem" in m.keywords
                                      else TerminalFormat.BASE64)
    tp.enrollment_url = None
    tp.options.enrollment_selfsigned = False


def _enrollment_selfsigned(s: Session, m: Match) -> None:
    """`enrollment selfsigned`: `crypto pki enroll` makes a self-signed certificate
    (persistent self-signed certificates, 12.3(14)T)."""
    tp = _tp(s)
    tp.options.enrollment_selfsigned = not m.negated
    if not m.negated:
        tp.enrollment_url = None
        tp.options.enrollment_terminal = None


def _enrollment_mode_ra(s: Session, m: Match) -> None:
    """`enrollment mode ra`: the CA is reached through an RA, so `crypto pki authenticate`
    "returns RA signing + RA encryption certs plus CA cert" (cisco-client-docs.md 2): the
    trustpoint keeps the CA's as its CA certificate and the RA's beside it, and requests
    are enveloped to both (`sim.router.pki_client.authenticate`, `sim.pki.ra_forward`)."""
    _tp(s).options.enrollment_mode_ra = not m.negated


# -- what the request carries ----------------------------------------------------------------
def _host_name(s: Session, m: Match) -> str | None:
    """The `name` argument if a request can carry it (printable ASCII: an IA5String
    unstructuredName, an A-label dNSName); otherwise None, after the caret under it
    (chosen: as invalid input, the way IOS refuses a word its parser does not take)."""
    name = str(m.args["name"])
    if name.isascii() and name.isprintable():
        return name
    _refuse_at(s, len(s.current_line.rstrip()) - len(name))
    return None


def _fqdn(s: Session, m: Match) -> None:
    """`fqdn {NAME | none}`: the name the request carries as unstructuredName instead of
    `hostname.domain` (`none`: none at all); the enroll dialogue's subject line follows."""
    if m.negated:
        _tp(s).options.fqdn = None
        return
    name = _host_name(s, m)
    if name is not None:
        _tp(s).options.fqdn = name


def _usage(s: Session, m: Match) -> None:
    """`usage {ike | ssl-client | ssl-server}`: stored and shown (pkilab uses
    certificates for nothing it could restrict)."""
    _tp(s).options.usage = None if m.negated else TrustpointUsage(m.keywords[-1])


def _eku_request(s: Session, m: Match) -> None:
    """`eku request PURPOSE [PURPOSE ...]`: an Extended Key Usage extension in every
    request (`sim.pki.request_shape`). Each word may be abbreviated to a unique prefix,
    as IOS keywords are; an unknown or ambiguous one is refused at that word."""
    tp = _tp(s)
    if m.negated:
        tp.options.eku = ()
        return
    text = str(m.args["purposes"])
    offset = s.current_line.rfind(text)
    chosen: list[str] = []
    position = 0
    for word in text.split():
        position = text.index(word, position)
        matches = [k for k in EKU_KEYWORDS if k.startswith(word.lower())]
        exact = word.lower() in EKU_KEYWORDS
        if not matches or (len(matches) > 1 and not exact):
            _refuse_at(s, max(offset, 0) + position)
            return
        purpose = word.lower() if exact else matches[0]
        if purpose not in chosen:
            chosen.append(purpose)
        position += len(word)
    tp.options.eku = tuple(chosen)


def _subject_alt_name(s: Session, m: Match) -> None:
    """`subject-alt-name NAME`: a SubjectAltName (dNSName) requested in the PKCS#10."""
    if m.negated:
        _tp(s).options.subject_alt_name = None
        return
    name = _host_name(s, m)
    if name is not None:
        _tp(s).options.subject_alt_name = name


def _hash(s: Session, m: Match) -> None:
    """`hash {md5 | sha1 | sha256 | sha384 | sha512}`: the hash the request's PKCS#10 is
    signed with (cisco-client-docs.md 2); without it pkilab signs with SHA-256."""
    _tp(s).options.hash = None if m.negated else SignatureHash(m.keywords[-1])


def _source_interface(s: Session, m: Match) -> None:
    """`source interface IF`: stored and shown; pkilab's routers have one address, which
    every request already leaves from."""
    if m.negated:
        _tp(s).options.source_interface = None
        return
    name = str(m.args["interface"])
    if not looks_like_interface(name):
        _refuse_at(s, len(s.current_line.rstrip()) - len(name))
        return
    _tp(s).options.source_interface = name


def _vrf(s: Session, m: Match) -> None:
    """`vrf NAME`: stored and shown (pkilab models no VRFs)."""
    _tp(s).options.vrf = None if m.negated else str(m.args["name"])


def _auto_enroll(s: Session, m: Match) -> None:
    """`auto-enroll [PERCENT] [regenerate]`: renew when the certificate has lived PERCENT
    of its life, or at its expiry without PERCENT ("the request for a new certificate is
    made when the old certificate expires", IOS command reference); `regenerate` makes a
    new key pair for the renewal (`sim.router.pki_client.renewal_key`)."""
    tp = _tp(s)
    if m.negated:
        tp.auto_enroll_percent = None
        tp.options.auto_enroll = tp.options.auto_enroll_regenerate = False
        return
    tp.auto_enroll_percent = m.integer("percent") if "percent" in m.args else None
    tp.options.auto_enroll = True
    tp.options.auto_enroll_regenerate = "regenerate" in m.keywords
    if tp.id_cert is not None and not s.booting:
        s.router.enroll_host.arm_renewal(tp)


def _show(s: Session, m: Match) -> None:
    """`show` in ca-trustpoint mode. chosen: the trustpoint's block as `show
    running-config` would print it now, without its closing `!` (the reference does not
    capture this command's output)."""
    s.write_lines(trustpoint_config(_tp(s))[:-1])


TRUSTPOINT_OPTION_COMMANDS: CommandTable = [
    ("show", _show, {}),
    ("enrollment url <url:WORD>", _enrollment_url, {"no_form": True}),
    ("enrollment terminal [pem]", _enrollment_terminal, {"no_form": True}),
    ("enrollment selfsigned", _enrollment_selfsigned, {"no_form": True}),
    ("enrollment mode ra", _enrollment_mode_ra, {"no_form": True}),
    ("fqdn <name:WORD>", _fqdn, {"no_form": True}),
    ("usage {ike|ssl-client|ssl-server}", _usage, {"no_form": True}),
    ("eku request <purposes:LINE>", _eku_request, {"no_form": True}),
    ("subject-alt-name <name:WORD>", _subject_alt_name, {"no_form": True}),
    ("hash {md5|sha1|sha256|sha384|sha512}", _hash, {"no_form": True}),
    ("source interface <interface:WORD>", _source_interface, {"no_form": True}),
    ("vrf <name:WORD>", _vrf, {"no_form": True}),
    ("auto-enroll [<percent:1-100>] [regenerate]", _auto_enroll, {"no_form": True}),
]
"""Added to the `ca-trustpoint` mode's table in `sim.router.commands`."""


# -- cut and paste (global configuration) --------------------------------------------------
def _named_trustpoint(s: Session, m: Match) -> Trustpoint | None:
    """The trustpoint the command names, or None after IOS's unknown-trustpoint line (and
    after saying the line is not run from a startup-config)."""
    if not_run_at_boot(s):
        return None
    return known_trustpoint(s, str(m.args["tp"]))


def _import_certificate(s: Session, m: Match) -> SimProcess[None]:
    tp = _named_trustpoint(s, m)
    if tp is not None:
        yield from terminal_enroll.import_certificate(s, tp)


def _export_pem_terminal(s: Session, m: Match) -> None:
    tp = _named_trustpoint(s, m)
    if tp is None:
        return
    cipher = next((k for k in m.keywords if k in ("des", "3des")), None)
    passphrase = m.args.get("passphrase")
    terminal_enroll.export_pem_terminal(s, tp, cipher,
                                        None if passphrase is None else str(passphrase))


TERMINAL_CONFIG_COMMANDS: CommandTable = [
    ("crypto pki import <tp:LABEL> certificate", _import_certificate, {}),
    ("crypto pki export <tp:LABEL> pem terminal [{des|3des} password <passphrase:WORD>]",
     _export_pem_terminal, {}),
]


# -- `crypto ca ...` -------------------------------------------------------------------------
ALIASED = ("trustpoint", "certificate", "authenticate", "enroll", "crl", "import", "export")
"""The `crypto pki` commands IOS still takes as `crypto ca` (12.3's renaming,
cisco-client-docs.md). chosen: the trustpoint and client commands of global
configuration; `crypto pki server` keeps its one spelling (the reference names no
`crypto ca server`)."""


def ca_aliases(table: CommandTable) -> CommandTable:
    """`crypto ca X ...` for each `crypto pki X ...` of `table` with X in `ALIASED`."""
    aliases: CommandTable = []
    for pattern, handler, options in table:
        words = pattern.split()
        if words[:2] == ["crypto", "pki"] and len(words) > 2 and words[2] in ALIASED:
            aliases.append((" ".join(["crypto", "ca", *words[2:]]), handler, options))
    return aliases


TRUSTPOINT_CONFIG_COMMANDS: CommandTable = TERMINAL_CONFIG_COMMANDS + ca_aliases(
    CONFIG_COMMANDS + TERMINAL_CONFIG_COMMANDS)
"""Added to global configuration's table in `sim.router.commands`: the cut-and-paste
commands (`crypto pki import TP certificate`, `crypto pki export TP pem terminal`) and
the `crypto ca` spellings."""
