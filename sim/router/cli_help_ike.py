"""`?` help texts of the IKE commands (`sim.router.handlers_ike`), merged into
`sim.router.cli_help_text.TEXTS` there. Each text is (description, is IOS's wording):
True where the wording is IOS's as widely printed in Cisco documentation and lab
transcripts, False for pkilab's wording in IOS's style (see cli_help_text's provenance
note; tests/test_cli_help.py lists the guessed ones). Keys follow cli_help_text's rules
(keyword path, then the token; a tail of the path is enough)."""

from __future__ import annotations

from sim.router.console import Mode

_G, _I = False, True

IKE_HEADERS: dict[Mode, tuple[str, bool]] = {
    Mode.ISAKMP_POLICY: ("ISAKMP commands:", _I),
    Mode.CRYPTO_MAP: ("Crypto Map configuration commands:", _I),
    Mode.IKEV2_PROFILE: ("IKEv2 profile configuration commands:", _G),
    Mode.CERT_MAP: ("Certificate map configuration commands:", _G),
    Mode.INTERFACE: ("Interface configuration commands:", _I),
    Mode.IPSEC_PROFILE: ("IPsec profile configuration commands:", _G),
}

_EXEC = {
    "ping": ("Send echo messages", _I),
    "ping <address>": ("Ping destination address or hostname", _I),
    "clear": ("Reset functions", _I),
    "clear crypto session": ("Clear crypto sessions (tunnels)", _G),
    "clear crypto session remote": ("Remote IKE peer", _G),
    "clear crypto session remote <address>": ("IP address of the remote peer", _G),
    "clear crypto isakmp": ("Flush the ISAKMP database", _I),
    "clear crypto isakmp <conn>": ("connection id of SA", _G),
    "debug crypto isakmp": ("ISAKMP Key Management", _I),
    "debug crypto ikev2": ("IKEv2 debug", _G),
    "show crypto isakmp": ("Show ISAKMP", _G),
    "show crypto isakmp sa": ("Show ISAKMP Security Associations", _G),
    "show crypto ikev2": ("Show IKEv2 information", _G),
    "show crypto ikev2 sa": ("Show IKEv2 Security Associations", _G),
    "show crypto session": ("Show crypto sessions (tunnels)", _I),
}

_CONFIG = {
    "access-list": ("Add an access list entry", _I),
    "access-list <number>": ("IP extended access list", _I),
    "access-list permit": ("Specify packets to forward", _I),
    "access-list deny": ("Specify packets to reject", _I),
    "permit ip": ("Any Internet Protocol", _I),
    "deny ip": ("Any Internet Protocol", _I),
    "ip any": ("Any source host", _I),
    "ip host": ("A single source host", _I),
    "any any": ("Any destination host", _I),
    "host any": ("Any destination host", _I),
    "any host": ("A single destination host", _I),
    "host host": ("A single destination host", _I),
    "<sh>": ("Source address", _I),
    "<sn>": ("Source address", _I),
    "<sw>": ("Source wildcard bits", _I),
    "<dh>": ("Destination address", _I),
    "<dn>": ("Destination address", _I),
    "<dw>": ("Destination wildcard bits", _I),
    "crypto isakmp": ("Configure ISAKMP policy", _G),
    "crypto isakmp policy": ("Set policy for an ISAKMP protection suite", _I),
    "crypto isakmp policy <priority>": ("Priority of protection suite", _I),
    "crypto isakmp identity": ("Set the identity which ISAKMP will use", _I),
    "crypto isakmp identity address": ("Use the IP address of the interface for the "
                                       "identity", _I),
    "crypto isakmp identity dn": ("Use the distinguished name of the router cert for the "
                                  "identity", _I),
    "crypto isakmp identity hostname": ("Use the hostname of the router for the identity", _I),
    "crypto map": ("Enter a crypto map", _I),
    "crypto map <map>": ("Crypto map tag", _I),
    "crypto map <seq>": ("Sequence to insert into crypto map entry", _I),
    "crypto map ipsec-isakmp": ("IPSEC w/ISAKMP", _I),
    "crypto ikev2": ("Configure IKEv2 Options", _G),
    "crypto ikev2 profile": ("Define IKEv2 profiles", _G),
    "crypto ikev2 profile <name>": ("Name of IKEv2 profile", _G),
    "crypto pki certificate map": ("Define a certificate map", _G),
    "crypto pki certificate map <label>": ("Certificate map label", _G),
    "crypto pki certificate map <seq>": ("Sequence number", _G),
    "crypto ipsec": ("Configure IPSEC policy", _I),
    "crypto ipsec profile": ("Configure an ipsec policy profile", _I),
    "crypto ipsec profile <name>": ("ipsec profile name", _G),
    "interface": ("Select an interface to configure", _I),
    "interface <name>": ("Interface name, e.g. GigabitEthernet0/0", _G),
}

_DH_BITS = {"1": "768 bit", "2": "1024 bit", "5": "1536 bit", "14": "2048 bit",
            "15": "3072 bit", "16": "4096 bit", "19": "256 bit ecp", "20": "384 bit ecp",
            "21": "521 bit ecp", "24": "2048 bit, 256 bit subgroup"}

_ISAKMP_POLICY = {
    "authentication": ("Set authentication method for protection suite", _I),
    "authentication rsa-sig": ("Rivest-Shamir-Adelman Signature", _I),
    "authentication rsa-encr": ("Rivest-Shamir-Adelman Encryption", _I),
    "authentication pre-share": ("Pre-Shared Key", _I),
    "encryption": ("Set encryption algorithm for protection suite", _I),
    "encryption des": ("DES - Data Encryption Standard (56 bit keys).", _I),
    "encryption 3des": ("Three key triple DES", _I),
    "encryption aes": ("AES - Advanced Encryption Standard.", _I),
    "aes 128": ("128 bit keys.", _I),
    "aes 192": ("192 bit keys.", _I),
    "aes 256": ("256 bit keys.", _I),
    "hash": ("Set hash algorithm for protection suite", _I),
    "hash sha": ("Secure Hash Standard", _I),
    "hash md5": ("Message Digest 5", _I),
    "hash sha256": ("Secure Hash Standard 2 (256 bit)", _I),
    "hash sha384": ("Secure Hash Standard 2 (384 bit)", _I),
    "hash sha512": ("Secure Hash Standard 2 (512 bit)", _I),
    "group": ("Set the Diffie-Hellman group", _I),
    **{f"group {g}": (f"Diffie-Hellman group {g} ({bits})", _I) for g, bits in _DH_BITS.items()},
    "lifetime": ("Set lifetime for ISAKMP security association", _I),
    "lifetime <seconds>": ("lifetime in seconds", _I),
    "exit": ("Exit from ISAKMP protection suite configuration mode", _I),
}

_CRYPTO_MAP = {
    "set": ("Set values for encryption/decryption", _I),
    "set peer": ("Allowed Encryption/Decryption peer.", _I),
    "set peer <peer>": ("IP address of peer", _I),
    "set ikev2-profile": ("Specify ikev2 Profile", _G),
    "set ikev2-profile <name>": ("ikev2 profile name", _G),
    "match": ("Match values.", _I),
    "match address": ("Match address of packets to encrypt.", _I),
    "match address <acl>": ("IP access-list number or name", _I),
    "exit": ("Exit from crypto map configuration mode", _I),
}

_IKEV2_PROFILE = {
    "match": ("Match values of peer", _G),
    "match identity": ("Peer identity", _G),
    "match identity remote": ("Remote identity", _G),
    "remote address": ("IP Address(es)", _G),
    "remote address <address>": ("IP address", _G),
    "remote fqdn": ("Fully qualified domain name string", _G),
    "remote fqdn <name>": ("FQDN string", _G),
    "match certificate": ("Peer certificate attributes", _G),
    "match certificate <map>": ("Certificate map name", _G),
    "identity": ("Specify IKE identities", _G),
    "identity local": ("Local identity", _G),
    "local address": ("IP address", _G),
    "local address <address>": ("IPv4 address", _G),
    "local dn": ("Distinguished Name", _G),
    "authentication": ("Set authentication method", _G),
    "authentication local": ("Local authentication method", _G),
    "authentication remote": ("Remote authentication method", _G),
    "rsa-sig": ("Rivest-Shamir-Adleman Signature", _G),
    "pki": ("Specify PKI trustpoints", _G),
    "pki trustpoint": ("Specify PKI trustpoint", _G),
    "pki trustpoint <tp>": ("Trustpoint name", _G),
    "exit": ("Exit from IKEv2 profile configuration mode", _G),
}

_CERT_MAP = {
    "subject-name": ("Subject name", _G),
    "issuer-name": ("Issuer name", _G),
    "unstructured-subject-name": ("Unstructured subject name", _G),
    "alt-subject-name": ("Subject Alternative name", _G),
    "name": ("Subject or issuer name", _G),
    "eq": ("equal to", _G),
    "ne": ("not equal to", _G),
    "co": ("contains", _G),
    "nc": ("does not contain", _G),
    "<value>": ("Value to match (case-insensitive)", _G),
    "exit": ("Exit from certificate map configuration mode", _G),
}

_INTERFACE = {
    "crypto": ("Encryption/Decryption commands", _I),
    "crypto map": ("Assign a Crypto Map", _I),
    "crypto map <map>": ("Crypto Map tag", _I),
    "exit": ("Exit from interface configuration mode", _I),
    "ip": ("Interface Internet Protocol config commands", _I),
    "ip address": ("Set the IP address of an interface", _I),
    "ip address <address>": ("IP address", _I),
    "ip address <mask>": ("IP subnet mask", _I),
    "shutdown": ("Shutdown the selected interface", _I),
    "tunnel": ("protocol-over-protocol tunneling", _I),
    "tunnel source": ("source of tunnel packets", _I),
    "tunnel source <value>": ("Interface name or source address", _G),
    "tunnel destination": ("destination of tunnel", _I),
    "tunnel destination <value>": ("ip address", _I),
    "tunnel mode": ("tunnel encapsulation method", _I),
    "tunnel mode ipsec": ("IPSec tunnel encapsulation", _I),
    "tunnel mode ipsec ipv4": ("over IPv4", _I),
    "tunnel protection": ("Enable tunnel protection", _I),
    "tunnel protection ipsec": ("Use IPSec for tunnel protection", _G),
    "tunnel protection ipsec profile": ("Determine the ipsec policy profile to use.", _I),
    "tunnel protection ipsec profile <value>": ("Name of the ipsec policy profile", _G),
}

_IPSEC_PROFILE = {
    "set": ("Set a parameter", _G),
    "set ikev2-profile": ("Specify ikev2 Profile", _G),
    "set ikev2-profile <name>": ("ikev2 profile name", _G),
    "exit": ("Exit from crypto ipsec profile configuration mode", _G),
}

IKE_TEXTS: dict[Mode, dict[str, tuple[str, bool]]] = {
    Mode.EXEC: _EXEC,
    Mode.CONFIG: _CONFIG,
    Mode.ISAKMP_POLICY: _ISAKMP_POLICY,
    Mode.CRYPTO_MAP: _CRYPTO_MAP,
    Mode.IKEV2_PROFILE: _IKEV2_PROFILE,
    Mode.CERT_MAP: _CERT_MAP,
    Mode.INTERFACE: _INTERFACE,
    Mode.IPSEC_PROFILE: _IPSEC_PROFILE,
}
"""Texts by mode; the new submodes also get configuration mode's `do`/`end`/`no`."""
