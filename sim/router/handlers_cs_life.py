"""cs-server commands of the rest of the certificate server's life: the trustpoint grant
forms and IOS-XE's lifetimes in days, hours and minutes.

- `grant auto trustpoint TP`: auto-grant only requests signed by a certificate that the CA
  of trustpoint TP issued (cisco-cs.md 11 [D]; `sim.pki.grant_rules`); on every release.
- `grant auto tp-list TP1 [TP2 ... TP5]`: the same for up to five trustpoints, IOS-XE only
  (cisco-cs.md 3 [V-cisco]); the release profile's `grant_tp_list` says where it is taken.
- `lifetime {certificate|ca-certificate} DAYS [HOURS [MINUTES]]`: IOS-XE's form, days
  0-7305 (cisco-cs.md 3 [V-cisco]); earlier releases take days only, certificate 1-1825
  and ca-certificate 1-7305 (the release profile's `lifetime_hours_minutes`). What a
  release does not take gets IOS's caret under the first word it does not take.

`grant auto`, `grant none` and the other lifetimes stay in `sim.router.handlers_config`.
"""

from __future__ import annotations

from sim.pki.cs_server import (
    LIFETIME_CA_CERTIFICATE_DAYS,
    LIFETIME_CERTIFICATE_DAYS,
    LIFETIME_CERTIFICATE_DAYS_XE,
    LIFETIME_HOURS,
    LIFETIME_MINUTES,
)
from sim.pki.grant_rules import TP_LIST_MAX
from sim.router.cli_parser import Match, ParseError
from sim.router.command_table import CommandTable
from sim.router.console import Session
from sim.router.handlers_config import (
    current_server,
    server_editable,
)


def refuse_word(s: Session, index: int) -> None:
    """`% Invalid input detected at '^' marker.` under the `index`-th word of the line
    (0-based, the leading `no` counted), as the parser prints for a word it cannot take."""
    line = s.current_line
    words = list(_word_starts(line))
    column, word = words[min(index, len(words) - 1)]
    s.render_error(ParseError("invalid", column, word, line))


def _word_starts(line: str) -> list[tuple[int, str]]:
    found, column = [], 0
    for word in line.split():
        column = line.index(word, column)
        found.append((column, word))
        column += len(word)
    return found


# -- grant auto trustpoint / tp-list ----------------------------------------------------
def _grant_trustpoints(s: Session, m: Match) -> None:
    """`grant auto trustpoint TP` and XE's `grant auto tp-list TP1 ...`. chosen: a
    trustpoint that does not exist (yet) is taken without a word, as a saved configuration
    may name one defined later; until it holds a CA certificate it vouches for nothing, so
    requests wait for the administrator. A name given twice counts once."""
    cs = current_server(s)
    tp_list = "tp-list" in m.keywords
    offset = 1 if m.negated else 0
    if tp_list and not s.router.release.grant_tp_list:
        refuse_word(s, offset + 2)
        return
    if not server_editable(s, cs):
        return
    if m.negated:
        cs.configure(grant="manual", grant_trustpoints=(), grant_tp_list=False)
        return
    names = [str(m.args[f"tp{i}"]) for i in range(1, TP_LIST_MAX + 1) if f"tp{i}" in m.args]
    cs.configure(grant="auto", grant_trustpoints=tuple(dict.fromkeys(names)),
                 grant_tp_list=tp_list)


# -- lifetime {certificate|ca-certificate} DAYS [HOURS [MINUTES]] -------------------------
def _lifetime_days(s: Session, m: Match) -> None:
    """The day lifetimes. `no lifetime ...` goes back to the release's default. 0 days
    takes hours or minutes (a zero lifetime is refused with the caret under its last
    number, as `lifetime crl 0` is)."""
    cs = current_server(s)
    kind = m.keywords[1]
    ca = kind == "ca-certificate"
    offset = 1 if m.negated else 0
    if not m.negated and not _allowed(s, m, ca, offset):
        return
    if not server_editable(s, cs, frozen_after_cert=ca):
        return
    defaults = s.router.release.cs_config(cs.name)
    if m.negated:
        days, extra = ((defaults.lifetime_ca_certificate_days,
                        defaults.lifetime_ca_certificate_extra_minutes) if ca else
                       (defaults.lifetime_certificate_days,
                        defaults.lifetime_certificate_extra_minutes))
    else:
        days = m.integer("days")
        extra = m.integer("hours", 0) * 60 + m.integer("minutes", 0)
    if ca:
        cs.configure(lifetime_ca_certificate_days=days,
                     lifetime_ca_certificate_extra_minutes=extra)
    else:
        cs.configure(lifetime_certificate_days=days, lifetime_certificate_extra_minutes=extra)


def _allowed(s: Session, m: Match, ca: bool, offset: int) -> bool:
    """The typed numbers are within what this release takes; the caret otherwise."""
    days = m.integer("days")
    if not s.router.release.lifetime_hours_minutes:
        low, high = LIFETIME_CA_CERTIFICATE_DAYS if ca else LIFETIME_CERTIFICATE_DAYS
        if not low <= days <= high:
            refuse_word(s, offset + 2)
            return False
        if "hours" in m.args:
            refuse_word(s, offset + 3)
            return False
        return True
    extra = m.integer("hours", 0) * 60 + m.integer("minutes", 0)
    if days == 0 and extra == 0:
        refuse_word(s, offset + 2 + len([a for a in ("hours", "minutes") if a in m.args]))
        return False
    return True


def _range(bounds: tuple[int, int]) -> str:
    return f"{bounds[0]}-{bounds[1]}"


_DAYS = f"<days:0-{LIFETIME_CERTIFICATE_DAYS_XE[1]}>"
_HOURS_MINUTES = (f"[<hours:{_range(LIFETIME_HOURS)}> "
                  f"[<minutes:{_range(LIFETIME_MINUTES)}>]]")
_TP_LIST = " ".join(["<tp1:LABEL>"] + [f"[<tp{i}:LABEL>]" for i in range(2, TP_LIST_MAX + 1)])

CS_LIFE_COMMANDS: CommandTable = [
    ("grant auto trustpoint <tp1:LABEL>", _grant_trustpoints, {"no_form": True}),
    (f"grant auto tp-list {_TP_LIST}", _grant_trustpoints, {"no_form": True}),
    (f"lifetime certificate {_DAYS} {_HOURS_MINUTES}", _lifetime_days, {"no_form": True}),
    (f"lifetime ca-certificate {_DAYS} {_HOURS_MINUTES}", _lifetime_days, {"no_form": True}),
]
"""cs-server mode (`sim.router.commands` adds them to the mode's table)."""
