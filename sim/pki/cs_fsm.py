"""The certificate-server state machine, as one table.

Theory of operation
-------------------
IOS logs every FSM step of the certificate server under `debug crypto pki server`:

    CRYPTO_CS: enter FSM: input state initial, input signal no shut
    CRYPTO_CS: exit FSM: new state check failed
    CRYPTO_CS: cs config has been locked

The states and the first four signals are the ones the seed document shows (IOS
12.3(14)T "Subordinate Certificate Server"). A server is created `initial` (shut, never
enabled). `no shut` runs the enabling checks; their outcome decides between `enabled`
and `check failed`. While `check failed`, anything that may cure the failure (`time
set`, `cert configured` from a completed enrollment, the HTTP server coming up) runs the
checks again, which is how the seed's "after the time has been set, the certificate
server will automatically switch to running status" happens. `shut` leads to `disabled`.

IOS never printed a signal name for the HTTP server being turned on or off (T-05 shows
only the resulting `%PKI-6-CS_ENABLED`), so `http server on` / `http server off` are
pkilab's names for those two inputs.

The table is total: every (state, signal) pair has an entry, and `transition()` raises
`IllegalTransition` for anything else, so a new state or signal cannot be added without
deciding every cell. Reports draw their state diagram from `TRANSITIONS` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class CsState(Enum):
    INITIAL = "initial"
    CHECK_FAILED = "check failed"
    ENABLED = "enabled"
    DISABLED = "disabled"


class CsSignal(Enum):
    NO_SHUT = "no shut"
    TIME_SET = "time set"
    CERT_CONFIGURED = "cert configured"
    SHUT = "shut"
    HTTP_ON = "http server on"
    HTTP_OFF = "http server off"


class CsAction(Enum):
    STAY = "stay"
    """Nothing to do; the state is re-entered (IOS still logs enter/exit)."""
    RUN_CHECKS = "run enabling checks"
    """Run the enabling checks; the next state is `enabled` or `check failed`."""
    DISABLE = "disable"
    """Stop the SCEP service and unlock the configuration."""
    LOSE_HTTP = "stop SCEP"
    """The HTTP server went away under an enabled server: `check failed`."""


@dataclass(frozen=True)
class Transition:
    action: CsAction
    targets: tuple[CsState, ...]
    """Possible next states; RUN_CHECKS has two, decided by the checks' outcome."""


_S, _G = CsState, CsSignal
_CHECKS = Transition(CsAction.RUN_CHECKS, (CsState.ENABLED, CsState.CHECK_FAILED))


def _stay(state: CsState) -> Transition:
    return Transition(CsAction.STAY, (state,))


_DISABLE = Transition(CsAction.DISABLE, (CsState.DISABLED,))

TRANSITIONS: dict[tuple[CsState, CsSignal], Transition] = {
    (_S.INITIAL, _G.NO_SHUT): _CHECKS,
    (_S.INITIAL, _G.TIME_SET): _stay(_S.INITIAL),
    (_S.INITIAL, _G.CERT_CONFIGURED): _stay(_S.INITIAL),
    (_S.INITIAL, _G.SHUT): _stay(_S.INITIAL),
    (_S.INITIAL, _G.HTTP_ON): _stay(_S.INITIAL),
    (_S.INITIAL, _G.HTTP_OFF): _stay(_S.INITIAL),
    (_S.CHECK_FAILED, _G.NO_SHUT): _CHECKS,
    (_S.CHECK_FAILED, _G.TIME_SET): _CHECKS,
    (_S.CHECK_FAILED, _G.CERT_CONFIGURED): _CHECKS,
    (_S.CHECK_FAILED, _G.SHUT): _DISABLE,
    (_S.CHECK_FAILED, _G.HTTP_ON): _CHECKS,
    (_S.CHECK_FAILED, _G.HTTP_OFF): _stay(_S.CHECK_FAILED),
    (_S.ENABLED, _G.NO_SHUT): _stay(_S.ENABLED),
    (_S.ENABLED, _G.TIME_SET): _stay(_S.ENABLED),
    (_S.ENABLED, _G.CERT_CONFIGURED): _stay(_S.ENABLED),
    (_S.ENABLED, _G.SHUT): _DISABLE,
    (_S.ENABLED, _G.HTTP_ON): _stay(_S.ENABLED),
    (_S.ENABLED, _G.HTTP_OFF): Transition(CsAction.LOSE_HTTP, (CsState.CHECK_FAILED,)),
    (_S.DISABLED, _G.NO_SHUT): _CHECKS,
    (_S.DISABLED, _G.TIME_SET): _stay(_S.DISABLED),
    (_S.DISABLED, _G.CERT_CONFIGURED): _stay(_S.DISABLED),
    (_S.DISABLED, _G.SHUT): _stay(_S.DISABLED),
    (_S.DISABLED, _G.HTTP_ON): _stay(_S.DISABLED),
    (_S.DISABLED, _G.HTTP_OFF): _stay(_S.DISABLED),
}

LOCKED_STATES = frozenset({CsState.CHECK_FAILED, CsState.ENABLED})
"""States in which `Server's configuration is locked` (the server has been `no shut`)."""


class IllegalTransition(Exception):
    """A (state, signal) pair the table does not define."""


def transition(state: CsState, signal: CsSignal) -> Transition:
    try:
        return TRANSITIONS[(state, signal)]
    except KeyError:
        raise IllegalTransition(f"no transition from {state!r} on {signal!r}") from None
