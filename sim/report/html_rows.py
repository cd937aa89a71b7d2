"""report.html's long tables and lists, row by row, as the template wrote them.

A large run's page has a row per exchange, per router and per certificate, and a list item
per artifact (a 10,000-router run: some 30,000 exchanges and 90,000 files). Looping over
them in the template cost a second or more: an attribute lookup, a call and an escape
per cell, through the template's runtime. Here each row is one f-string, its cells escaped
by `html_escape` exactly as the template's autoescape escapes them (the same entities,
spelt the same way), so the page is byte for byte what the template loop gave
(`tests/test_report.py` and the goldens compare whole pages).

Each function returns markup the template pastes as is (`| safe`): it is escaped here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sim.report.markdown import RouterFiles, cert_status, message, utc
from sim.report.model import CertNode, Exchange, RouterFact


def html_escape(text: str) -> str:
    """Text as the template's autoescape writes it (the same five entities, spelt the
    same way), so a pre-built fragment is byte for byte what the template would give."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


def _e(value: object) -> str:
    """A cell as `{{ value }}` writes it: its text, escaped (a hand-edited summary.json
    may hold a number or null where a name is expected)."""
    return html_escape(value if type(value) is str else str(value))


def exchange_rows(exchanges: Iterable[Exchange], at: Callable[[float], str]) -> str:
    """The rows of the table of every SCEP exchange."""
    e_ = _e
    return "".join(
        f'<tr class="exchange{" failed" if e.failed else ""}" data-t="{e.start:.3f}">'
        f'<td class="when">{e_(at(e.start))}</td><td class="when">{e_(at(e.end))}</td>'
        f"<td>{e_(e.client)}</td><td>{e_(e.server or '(unresolved)')}</td>"
        f"<td>{e_(message(e))}</td><td>{e_(e.result)}</td></tr>\n"
        for e in exchanges)


def router_rows(routers: Iterable[RouterFact]) -> str:
    """The rows of the table of every router: its certificate servers in name order,
    case ignored (the template's `dictsort`)."""
    e_ = _e
    rows = []
    for r in routers:
        servers = ", ".join(f"{e_(cs)} ({e_(state)})" for cs, state in
                            sorted(r.servers.items(), key=lambda item: item[0].lower()))
        name = e_(r.name)
        rows.append(f'<tr data-router="{name}"><td>{name}</td>'
                    f'<td class="mono">{e_(r.address)}</td>\n'
                    f"<td>{servers or '-'}</td>\n"
                    f"<td>{'yes' if r.running else 'no'}</td></tr>\n")
    return "".join(rows)


def certificate_rows(certificates: Iterable[CertNode]) -> str:
    """The rows of the table of every certificate."""
    e_ = _e
    rows = []
    for c in certificates:
        status = cert_status(c.revoked, c.expired)
        failed = ' class="failed"' if status != "valid" else ""
        md5 = e_(c.md5)
        rows.append(
            f'<tr data-md5="{md5}" data-serial="{e_(c.serial)}"{failed}>\n'
            f'<td>{e_(c.subject)}</td><td>{e_(c.issuer)}</td><td class="num">{e_(c.serial)}</td>\n'
            f'<td class="when">from {e_(utc(c.not_before))}<br>until '
            f'{e_(utc(c.not_after))}</td><td class="num">{e_(c.key_bits)}</td>\n'
            f'<td class="fp" title="SHA-1 {e_(c.sha1)}">{md5}</td>'
            f"<td>{e_(c.router)} / {e_(c.name)}</td><td>{e_(c.role)}</td>"
            f"<td>{e_(status)}</td>\n</tr>\n")
    return "".join(rows)


def file_items(files: RouterFiles, run: bool) -> str:
    """A router's artifact list items: its final files, or (`run`) those under `run/`,
    named without the `run/`."""
    e_ = _e
    return "".join(f'<li><a href="{e_(path)}">{e_(name[4:] if run else name)}</a></li>\n'
                   for path, name in files.files if name.startswith("run/") == run)
