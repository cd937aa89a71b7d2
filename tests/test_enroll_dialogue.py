"""`crypto pki enroll`'s questions shape the request as IOS's do: the serial number and
the IP address the operator agrees to end up in the subject the CA sees."""

from __future__ import annotations

from sim.lab import Lab

CA_SETUP = """
enable
configure terminal
crypto pki server ca
grant auto
no shutdown
end
"""
CLIENT = """
enable
configure terminal
crypto pki trustpoint ca
enrollment url http://10.0.0.1
exit
crypto pki authenticate ca
crypto pki enroll ca
end
"""


def _enroll(answers: list[str]) -> tuple[Lab, list[str]]:
    lab = Lab(seed=4)
    lab.add_router("ca", "10.0.0.1", "ip http server")
    lab.add_router("r1", "10.0.0.2")
    lab.link("ca", "r1")
    lab.type("ca", CA_SETUP, answers=["capass123", "capass123"])
    printed = lab.type("r1", CLIENT, answers=["yes", "pw", "pw", *answers])
    lab.run(120)
    return lab, printed


def test_serial_number_and_ip_address_go_into_the_request() -> None:
    """Answering yes to the serial-number and IP-address questions of `crypto pki enroll` would
    not put them in the subject shown by `info requests`."""
    lab, printed = _enroll(["yes", "yes", "10.9.8.7", "yes"])
    serial = lab.router("r1").serial_number
    assert len(serial) == 8 and serial.isdigit()
    assert f"% The serial number in the certificate will be: {serial}" in printed
    assert "Enter Interface name or IP Address[]: 10.9.8.7" in printed
    assert "% Certificate request sent to Certificate Authority" in printed
    requests = "\n".join(lab.show("ca", "crypto pki server ca info requests"))
    # One RDN, listed as IOS lists it (cisco-cs.md section 7).
    assert f"serialNumber={serial}+ipaddress=10.9.8.7+hostname=r1" in requests
    certificates = "\n".join(lab.show("r1", "show crypto pki certificates"))
    assert "Status: Available" in certificates


def test_a_bad_address_is_asked_again_and_an_interface_name_is_taken() -> None:
    """A bad answer to `Enter Interface name or IP Address` would not be asked again, or an
    interface name would not become its address in the request."""
    lab, printed = _enroll(["no", "yes", "not-an-address", "Ethernet0/0", "yes"])
    assert printed.count("% Bad interface or address. Try again.") == 1
    assert "% The serial number in the certificate will be" not in "\n".join(printed)
    requests = "\n".join(lab.show("ca", "crypto pki server ca info requests"))
    assert "ipaddress=10.0.0.2" in requests and "serialNumber=" not in requests


def test_no_to_both_keeps_the_hostname_only() -> None:
    """Answering no to both enroll questions would still prompt for an address or put an IP
    address in the request's subject."""
    lab, printed = _enroll(["no", "no", "yes"])
    assert not [line for line in printed if "Enter Interface" in line]
    requests = "\n".join(lab.show("ca", "crypto pki server ca info requests"))
    assert "hostname=r1" in requests and "ipaddress=" not in requests
