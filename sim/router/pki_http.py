"""The enrollment client's HTTP exchanges with its CA over the simulated network.

`http_exchange` resolves the CA's name as IOS does, sends one SCEP request (built by
`sim.pki.scep_http`) across the simulated network, and prints what IOS's
`debug crypto pki transactions` shows about it; it never raises: what went wrong comes back
in the `Exchange`. Lines come from the seed's transcript; where IOS's wording for a failure
was never captured, the choice is marked in `FAILURE_LINES`. Every exchange is noted in the
trace (`note_exchange`): reports draw the sequence diagram from these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.kernel.process import SimProcess
from sim.net.http import HttpFailure, HttpRequest, HttpResponse, HttpResult
from sim.net.resolver import resolve
from sim.pki.scep_client import ScepEndpoint
from sim.pki.scep_http import GET_CA_CERT, PKI_OPERATION, ScepHttpRequest, read_request
from sim.router.state import Trustpoint

if TYPE_CHECKING:
    from sim.router.router import Router

HTTP_TIMEOUT = 30.0
"""How long the IOS PKI client waits for the CA's answer before giving up on a try."""
DNS_TIMEOUT = 5.0
"""An unknown name with `ip domain lookup` on: the broadcast lookup times out."""

FAILURE_LINES = {
    # pkilab's wording: IOS's debug text for these failures was never captured.
    HttpFailure.REFUSED: "CRYPTO_PKI: connect to the CA failed: connection refused",
    HttpFailure.TIMEOUT: "CRYPTO_PKI: connect to the CA failed: timed out",
    HttpFailure.NO_ROUTE: "CRYPTO_PKI: connect to the CA failed: no route to host",
}


@dataclass(frozen=True)
class Exchange:
    """One HTTP exchange with the CA as the client saw it."""

    response: HttpResponse | None
    problem: str | None
    address: str | None = None
    started: float = 0.0
    failure: str | None = None
    """Why no answer came: "unresolved", "refused", "timeout", "no-route", "http 404"..."""


def note_exchange(router: Router, tp: Trustpoint, exchange: Exchange, operation: str,
                  message: str | None, result: str, transaction: str | None = None) -> None:
    """One `scep/exchange` trace event per client exchange: reports draw the sequence
    diagram from these."""
    server = router.net.node_for_address(exchange.address) if exchange.address else None
    router.emit("scep", "exchange", trustpoint=tp.name, server=server,
                address=exchange.address, operation=operation, message=message, result=result,
                started=round(exchange.started, 6), transaction=transaction)


def debug(router: Router, text: str) -> None:
    router.debug_line("pki-transactions", text)


def debug_block(router: Router, first: str, rest: list[str]) -> None:
    if "pki-transactions" in router.running.debug:
        router.log(first, kind="debug")
        for line in rest:
            router.console_line(line)


def http_exchange(router: Router, endpoint: ScepEndpoint, scep_request: ScepHttpRequest,
                  operation: str, *, quiet: bool = False,
                  message: bytes | None = None) -> SimProcess[Exchange]:
    """Resolve the CA's name, cross the network, log like IOS; never raises.

    `quiet` exchanges (the GetCACaps probe, which IOS 12.3's debug output never shows)
    are traced but print nothing on the console. `message`: the pkiMessage a
    PKIOperation request carries, when the caller has it at hand (else it is read back
    from the request, for the `Signed Data` debug lines); b"" for a request that carries
    none (GetCACert, GetCACaps), which is then not read back either."""

    def say(text: str) -> None:
        if not quiet:
            debug(router, text)

    started = router.env.now
    resolution = resolve(endpoint.host, router.running.hosts)
    if resolution.literal or not resolution.resolved:
        # IOS tries name resolution even for an address literal (seed transcript).
        say("CRYPTO_PKI: can not resolve server name/IP address")
    address = resolution.address
    if not resolution.resolved or address is None:
        if router.running.domain_lookup:
            yield router.env.timeout(DNS_TIMEOUT)
        router.emit("pki", "scep.unresolved", host=endpoint.host, operation=operation)
        return Exchange(None, f"can not resolve {endpoint.host}", None, started, "unresolved")
    if resolution.literal:
        say(f"CRYPTO_PKI: Using unresolved IP Address {address}")
    request = HttpRequest.from_target(scep_request.method, scep_request.target,
                                      scep_request.headers, scep_request.body)
    if message is None:
        call = read_request(request.method, request.query, request.body)
        message = call.der if call.operation == PKI_OPERATION else b""
    pki_message = bool(message)
    if pki_message:
        signed_data(router, len(message))
    process = router.net.http(router.name, address, endpoint.port, request,
                              timeout=HTTP_TIMEOUT)
    result: HttpResult = yield process
    if result.response is None:
        failure = result.failure or HttpFailure.TIMEOUT
        say(FAILURE_LINES[failure])
        return Exchange(None, failure.value, address, started, failure.value)
    say("CRYPTO_PKI: http connection opened")
    response = result.response
    if operation != GET_CA_CERT:
        say(f"CRYPTO_PKI: received msg of {len(response.body)} bytes")
    if not quiet and "pki-transactions" in router.running.debug:  # `debug_block`'s test
        header = [f"    {response.version} {response.status} {response.reason}"]
        header += [f"    {name}: {value}" for name, value in response.headers]
        debug_block(router, "CRYPTO_PKI: HTTP response header:", header + [""])
    if response.status != 200:
        return Exchange(None, f"HTTP {response.status} {response.reason}", address, started,
                        f"http {response.status}")
    if pki_message:
        signed_data(router, len(response.body))
    return Exchange(response, None, address, started)


def signed_data(router: Router, size: int) -> None:
    """`debug crypto pki messages`: each SCEP pkiMessage (a CMS SignedData) the client sends
    or receives. chosen: IOS's `CRYPTO_PKI: Signed Data N bytes` line as recalled; the hex
    dump of the message IOS prints after it is left out (the message is an artifact)."""
    router.debug_line("pki-messages", f"CRYPTO_PKI: Signed Data {size} bytes")
