"""System commands around the CA: the HTTP server's port and secure server, `show version`,
`show crypto pki trustpool`, and the `debug crypto pki` flags beyond server/transactions.

- `ip http port N`: the HTTP server (and with it SCEP) answers on port N; an enrollment URL
  with a port (`http://ca:8080`) reaches the CA only when that is its port, since the
  client connects to the URL's port (`sim.pki.scep_client.scep_endpoint`, default 80).
- `ip http secure-server`, `ip http secure-trustpoint TP`: accepted, shown in the running
  configuration and `show ip http server status`. The HTTPS server is modelled as that
  configuration and status only, with no TLS bytes and no listener on 443: no simulated
  client speaks HTTPS (IOS SCEP enrollment URLs here are `http://`), so nothing could
  reach it.
- `show version`: the release's image and banner (`sim.router.system_profile`), the
  router's uptime, why it last booted, its configuration register.
- `show crypto pki trustpool`: chosen: the trustpool is modelled empty (no Cisco root
  bundle is shipped), so 15.x and XE print nothing; 12.3(14)T has no trustpool (it came
  with 15.2(2)T), so the command is invalid input there.
- `debug crypto pki messages|validation|callbacks`: flags `show debugging` lists.
  `messages` prints a line per SCEP message the client sends or receives
  (`sim.router.pki_http`); `validation` and `callbacks` print their lines when a granted
  certificate is checked against the trustpoint's CA and installed (`sim.router.pki_client`).
"""

from __future__ import annotations

from sim.router import show
from sim.router.cli_parser import Match
from sim.router.command_table import CommandTable
from sim.router.console import Session
from sim.router.handlers_exec import DEBUG_FLAGS, switch_debug
from sim.router.handlers_time import refuse_word
from sim.router.show_system import show_version
from sim.router.state import DEFAULT_HTTP_PORT


# -- configuration ----------------------------------------------------------------------
def _http_port(s: Session, m: Match) -> None:
    s.router.set_http_port(DEFAULT_HTTP_PORT if m.negated else m.integer("port"))


def _secure_server(s: Session, m: Match) -> None:
    s.router.running.http.secure_server = not m.negated


def _secure_trustpoint(s: Session, m: Match) -> None:
    s.router.running.http.secure_trustpoint = None if m.negated else str(m.args["tp"])


SYSTEM_CONFIG_COMMANDS: CommandTable = [
    ("ip http port <port:1-65535>", _http_port, {"no_form": True}),
    ("ip http secure-server", _secure_server, {"no_form": True}),
    ("ip http secure-trustpoint <tp:LABEL>", _secure_trustpoint, {"no_form": True}),
]


def _show_version(s: Session, m: Match) -> None:
    s.write_lines(show_version(s.router))


def _show_trustpool(s: Session, m: Match) -> None:
    if not s.router.release.system.trustpool:
        refuse_word(s, 3)
        return
    # The trustpool holds no certificate (see the module docstring): nothing to list.


# -- debug -------------------------------------------------------------------------------
def _debug(s: Session, m: Match) -> None:
    flag = DEBUG_FLAGS[m.keywords[-1]]
    switch_debug(s, flag, show.DEBUG_TITLES[flag], not m.negated)


SYSTEM_SHOW_COMMANDS: CommandTable = [
    ("show version", _show_version, {}),
]

SYSTEM_EXEC_COMMANDS: CommandTable = SYSTEM_SHOW_COMMANDS + [
    ("show crypto pki trustpool", _show_trustpool, {}),
    ("debug crypto pki messages", _debug, {"no_form": True}),
    ("debug crypto pki validation", _debug, {"no_form": True}),
    ("debug crypto pki callbacks", _debug, {"no_form": True}),
]
