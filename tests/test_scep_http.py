"""The SCEP HTTP binding (`sim.pki.scep_http`): what the client end writes, the server end
reads back, and what cannot carry a pkiMessage is an HTTP problem, not a crash."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from sim.pki import scep
from sim.pki.scep_http import (
    GET_CA_CAPS,
    GET_CA_CERT,
    IOS_USER_AGENT,
    PKI_OPERATION,
    SCEP_PATH,
    ScepCall,
    ca_certificates,
    get_request,
    is_scep_path,
    pki_operation_request,
    read_request,
)

DER = bytes(range(256)) * 3
"""Every byte value: its base64 has `+`, `/` and `=`, which a careless GET would garble."""


def read_back(method: str, target: str, body: bytes) -> ScepCall:
    path, _, query = target.partition("?")
    assert is_scep_path(path)
    return read_request(method, query, body)


@pytest.mark.parametrize("post", [True, False], ids=["POST", "GET"])
def test_a_pki_operation_the_client_writes_is_the_one_the_server_reads(post: bool) -> None:
    """A SCEP request sent by POST or GET would reach the CA changed, or without IOS's
    User-Agent."""
    request = pki_operation_request(SCEP_PATH, DER, post=post)
    assert read_back(request.method, request.target, request.body) == ScepCall(
        PKI_OPERATION, DER)
    assert ("User-Agent", IOS_USER_AGENT) in request.headers


def test_post_carries_der_typed_as_a_pki_message() -> None:
    """A SCEP POST would use the wrong URL or Content-Type, so a real SCEP server might reject
    it."""
    request = pki_operation_request(SCEP_PATH, DER, post=True)
    assert (request.method, request.target, request.body) == (
        "POST", "/cgi-bin/pkiclient.exe?operation=PKIOperation", DER)
    assert ("Content-Type", "application/x-pki-message") in request.headers


def test_get_carries_base64_in_64_character_lines_as_ios_writes_it() -> None:
    """scep.md 1.2: IOS and sscep send OpenSSL's base64 with `%0A` line breaks."""
    request = pki_operation_request(SCEP_PATH, DER, post=False)
    assert request.method == "GET" and request.body == b""
    path, _, query = request.target.partition("?")
    operation, message = query.split("&")
    assert (path, operation) == (SCEP_PATH, "operation=PKIOperation")
    lines = scep.encode_get_message(DER, "rfc")  # one line, escaped
    assert message.startswith("message=") and "%0A" in message
    assert message.replace("%0A", "") == "message=" + lines


@pytest.mark.parametrize("operation", [GET_CA_CAPS, GET_CA_CERT])
def test_get_operations_name_the_ca(operation: str) -> None:
    """GetCACaps or GetCACert would be sent with the wrong URL or without the CA name as
    `message=`."""
    request = get_request(SCEP_PATH, operation, "ca")
    assert request.target == f"/cgi-bin/pkiclient.exe?operation={operation}&message=ca"
    assert read_back(request.method, request.target, request.body) == ScepCall(operation)


@pytest.mark.parametrize("method, query, body, problem", [
    ("POST", "operation=PKIOperation", b"", "no pkiMessage in the request"),
    ("GET", "operation=PKIOperation", b"", "no pkiMessage in the request"),
    ("GET", "operation=PKIOperation&message=AAAAA", b"", "message= is not valid base64"),
], ids=["empty-post", "no-message", "bad-base64"])
def test_a_pki_operation_without_a_pki_message_is_a_problem(method: str, query: str,
                                                            body: bytes, problem: str) -> None:
    """An empty POST or missing or bad `message=` would crash the CA instead of being answered as
    an HTTP problem."""
    call = read_request(method, query, body)
    assert call.operation == PKI_OPERATION and call.der == b""
    assert call.problem.startswith(problem)


def test_the_server_end_takes_what_real_clients_send() -> None:
    """Form-style `+` kept (macOS), URL-safe base64 (micromdm), names escaped."""
    text = scep.encode_get_message(DER, "rfc")
    plain = text.replace("%2B", "+").replace("%2F", "/").replace("%3D", "=")
    urlsafe = plain.replace("+", "-").replace("/", "_").rstrip("=")
    for message in (plain, urlsafe):
        assert read_request("GET", f"operation=PKIOperation&message={message}", b"").der == DER
    assert read_request("GET", f"{quote('operation')}=GetCACaps", b"").operation == GET_CA_CAPS


@pytest.mark.parametrize("path, served", [
    ("/cgi-bin/pkiclient.exe", True), ("/scep", True), ("/scep/", True),
    ("/cgi-bin", True), ("/", False), ("/index.html", False)])
def test_scep_paths(path: str, served: bool) -> None:
    """A SCEP client using `/scep` or `/cgi-bin` would get no answer, or plain web pages would be
    handled as SCEP."""
    assert is_scep_path(path) is served


def test_a_ca_certificate_answer_of_another_type_is_refused() -> None:
    """A GetCACert answer that is an HTML page would be taken as a CA certificate."""
    with pytest.raises(ValueError, match="unexpected Content-Type"):
        ca_certificates("text/html", b"<html></html>")
