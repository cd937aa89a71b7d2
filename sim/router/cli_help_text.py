"""The one-line descriptions `?` help prints beside each keyword and argument.

IOS prints `  crypto  Encryption module`: the token, then what it does. pkilab keeps those
texts here, apart from the grammar, keyed by CLI mode and by *keyword path*: the full
keywords typed before the token, then the token itself (an argument as `<name>`, its
pattern name). A leading `no` is not part of the key: IOS describes `no hostname` with
`hostname`'s text. A key may also be a tail of the path, down to the token alone, which
then describes the token wherever the path ends that way, unless a longer key says
otherwise (arguments are not keywords, so `crypto pki server CA grant` is keyed
`crypto pki server grant`, or `grant`):

    "crypto pki server"  EXEC `crypto pki server ?` (the request desk)
    "show crypto pki server"  `show crypto pki server ?`, not the request desk
    "pkcs10 terminal"    `terminal` after `... request pkcs10`
    "modulus"            `modulus` after any mix of `crypto key generate rsa` options

Provenance. No help text was ever captured in pkilab's reference notes (the feature guide
quotes no `?` output), so every text here is recalled, not checked against a router:
`ios(...)` marks IOS's own wording as it is widely printed in Cisco documentation and lab
transcripts (`show  Show running system information`); `guess(...)` marks pkilab's
wording in IOS's style where the real text is not known. tests/test_cli_help.py lists
the guessed ones, so replacing one with a verified text shows up in review.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.router.cli_help_ike import IKE_HEADERS, IKE_TEXTS
from sim.router.console import Mode

__all__ = ["FILTER_TEXTS", "HEADERS", "TEXTS", "HelpText", "generic_text", "lookup", "lookup_key"]


@dataclass(frozen=True, slots=True)
class HelpText:
    """A description, and whether it is IOS's own wording (`ios`) or pkilab's (`guess`)."""

    text: str
    ios: bool


def ios(text: str) -> HelpText:
    """IOS's wording, as recalled from Cisco documentation and router transcripts."""
    return HelpText(text, True)


def guess(text: str) -> HelpText:
    """pkilab's wording where IOS's is not known."""
    return HelpText(text, False)


HEADERS: dict[Mode, HelpText] = {
    Mode.USER_EXEC: ios("Exec commands:"),
    Mode.EXEC: ios("Exec commands:"),
    Mode.CONFIG: ios("Configure commands:"),
    Mode.TRUSTPOINT: guess("CA trustpoint configuration commands:"),
    Mode.CS_SERVER: guess("Certificate server configuration commands:"),
    Mode.CERT_CHAIN: guess("Certificate chain configuration commands:"),
}
"""The line IOS prints above the list when `?` is typed at an empty prompt."""


_EXEC: dict[str, HelpText] = {
    # top level
    "clock": ios("Manage the system clock"),
    "configure": ios("Enter configuration mode"),
    "copy": ios("Copy from one file to another"),
    "crypto": ios("Encryption related commands."),
    "debug": ios("Debugging functions (see also 'undebug')"),
    "dir": ios("List files on a filesystem"),
    "disable": ios("Turn off privileged commands"),
    "enable": ios("Turn on privileged commands"),
    "erase": ios("Erase a filesystem"),
    "exit": ios("Exit from the EXEC"),
    "logout": ios("Exit from the EXEC"),
    "no": ios("Disable debugging functions"),
    "reload": ios("Halt and perform a cold restart"),
    "show": ios("Show running system information"),
    "undebug": ios("Disable debugging functions (see also 'debug')"),
    "write": ios("Write running configuration to memory, network, or terminal"),
    # clock, configure, copy, dir, erase, write
    "clock set": ios("Set the time and date"),
    "clock set <time>": ios("Current Time"),
    "clock set <day>": ios("Day of the month"),
    "clock set <month>": ios("Month of the year"),
    "clock set <year>": ios("Year"),
    "configure terminal": ios("Configure from the terminal"),
    "terminal": ios("Set terminal line parameters"),
    "terminal monitor": ios("Copy debug output to the current terminal line"),
    "terminal no": ios("Negate a command or set its defaults"),
    "terminal no monitor": ios("Copy debug output to the current terminal line"),
    "copy running-config": ios("Copy from current system configuration"),
    "copy running-config startup-config": ios("Copy to startup configuration"),
    "dir <fs>": guess("Filesystem to list (nvram:)"),
    "erase <fs>": guess("Filesystem to erase (nvram: or startup-config)"),
    "write erase": ios("Erase NV memory"),
    "write memory": ios("Write to NV memory"),
    # debug
    "debug all": ios("Enable all debugging"),
    "debug crypto": guess("Cryptographic subsystem"),
    "debug crypto pki": guess("Public Key Infrastructure debugging"),
    "debug crypto pki server": guess("Certificate Server debugging"),
    "debug crypto pki transactions": guess("PKI transaction debugging"),
    "undebug all": ios("Disable all debugging"),
    # time, NTP, show version, trustpool, more debug (handlers_time, handlers_system)
    "calendar": ios("Manage the hardware calendar"),
    "calendar set": ios("Set the time and date"),
    "calendar set <time>": ios("Current Time"),
    "calendar set <day>": ios("Day of the month"),
    "calendar set <month>": ios("Month of the year"),
    "calendar set <year>": ios("Year"),
    "clock update-calendar": ios("Update the hardware clock from the software clock"),
    "debug crypto pki callbacks": guess("PKI callbacks debugging"),
    "debug crypto pki messages": guess("PKI messages debugging"),
    "debug crypto pki validation": guess("PKI certificate validation debugging"),
    "show calendar": ios("Display the hardware calendar"),
    "show clock detail": ios("Display detailed information"),
    "show crypto pki trustpool": guess("Show the trustpool's CA certificates"),
    "show ntp": ios("Network time protocol"),
    "show ntp associations": ios("NTP associations"),
    "show ntp status": ios("NTP status"),
    "show version": ios("System hardware and software status"),
    # show
    "show clock": ios("Display the system clock"),
    "show crypto": ios("Encryption module"),
    "show crypto key": ios("Show long term public keys"),
    "show crypto key mypubkey": ios("Show public keys associated with this router"),
    "show crypto key mypubkey rsa": ios("Show RSA public keys"),
    "show crypto key mypubkey rsa <label>": guess("Key pair label"),
    "show crypto pki": guess("Show PKI"),
    "show crypto pki certificates": guess("Show certificates"),
    "show crypto pki certificates <name>": guess("Trustpoint Name"),
    "show crypto pki certificates verbose": guess("Display in verbose mode"),
    "show crypto pki certificates verbose <name>": guess("Trustpoint Name"),
    "show crypto pki crls": guess("Show Certificate Revocation Lists"),
    "show crypto pki server": guess("Show Certificate Server status"),
    "show crypto pki server <name>": guess("Certificate Server name"),
    "show crypto pki server certificates": guess("Show the certificates the server has "
                                                 "issued"),
    "show crypto pki server crl": guess("Show the Certificate Server's current CRL"),
    "show crypto pki server requests": guess("Show the enrollment request database"),
    "show crypto pki trustpoints": guess("Show trustpoints"),
    "show crypto pki trustpoints <name>": guess("Trustpoint Name"),
    "show crypto pki trustpoints status": guess("Show trustpoint status"),
    "show crypto pki timers": guess("Show PKI Timers"),
    "show crypto pki timers detail": guess("Show the timers with their expiry times"),
    "show debugging": ios("State of each debugging option"),
    "show ip": ios("IP information"),
    "show ip http": ios("HTTP information"),
    "show ip http server": guess("HTTP server information"),
    "show ip http server status": guess("HTTP server status information"),
    "show running-config": ios("Current operating configuration"),
    "show startup-config": ios("Contents of startup configuration"),
    # the certificate server's request desk
    "crypto pki": guess("Public Key components"),
    "crypto pki server": guess("Certificate Server operations"),
    "crypto pki server <name>": guess("Certificate Server name"),
    "crypto pki certificate": guess("Actions on certificates"),
    "crypto pki certificate validate": guess("Validate the router's certificate under a "
                                             "trustpoint"),
    "crypto pki certificate validate <tp>": guess("Trustpoint Name"),
    "grant": guess("Grant enrollment requests"),
    "reject": guess("Reject enrollment requests"),
    "remove": guess("Remove enrollment requests"),
    "all": guess("All pending enrollment requests"),
    "<id>": guess("Enrollment request ID"),
    "info": guess("Display Certificate Server information"),
    "info crl": guess("Display the current CRL"),
    "info requests": guess("Display the enrollment request database"),
    "revoke": guess("Revoke a certificate"),
    "revoke <serial>": guess("Serial number of the certificate (hex, 0x optional)"),
    "request": guess("Enter an enrollment request by hand"),
    "request pkcs10": guess("PKCS10 enrollment request"),
    "pkcs10 terminal": guess("Paste the request at the terminal"),
    "terminal pem": guess("PEM formatted request"),
    "terminal base64": guess("Base64 encoded request"),
    # storage, backup and restore (sim.router.handlers_cs_storage)
    "delete": ios("Delete a file"),
    "delete <url>": guess("File to delete (nvram:, flash:)"),
    "copy <src>": guess("Source file URL (nvram:, flash:, tftp://host/path)"),
    "<dst>": guess("Destination file URL (nvram:, flash:, tftp://host/path)"),
    "copy startup-config": ios("Copy from startup configuration"),
    "crypto pki server unrevoke": guess("Take a certificate off the CRL"),
    # CA rollover (sim.router.handlers_rollover)
    "crypto pki server rollover": guess("Start the CA certificate rollover now"),
    "crypto pki server rollover cancel": guess("Cancel the rollover: delete the shadow CA "
                                               "certificate and key pair"),
    "crypto pki server unrevoke <serial>": guess("Serial number of the certificate (hex "
                                                 "with 0x, or decimal)"),
    "crypto pki server password": guess("One-time enrollment password"),
    "crypto pki server password generate": guess("Generate a one-time enrollment password"),
    "crypto pki server password generate <minutes>": guess("Minutes the password is valid "
                                                           "(default 60)"),
    "crypto pki server request pkcs10 url": guess("Read the request from a file"),
    "crypto pki server request pkcs10 url <url>": guess("URL of the request file"),
    "crypto pki server request pkcs10 url pem": guess("Write the certificate as PEM"),
    "crypto pki server request pkcs10 url base64": guess("Write the certificate as base64"),
}

_CONFIG_EXITS: dict[str, HelpText] = {
    "do": ios("To run exec commands in config mode"),
    "do <line>": ios("Exec Command"),
    "end": ios("Exit from configure mode"),
    "no": ios("Negate a command or set its defaults"),
}

_CONFIG: dict[str, HelpText] = {
    **_CONFIG_EXITS,
    "exit": ios("Exit from configure mode"),
    "hostname": ios("Set system's network name"),
    "hostname <name>": ios("This system's network name"),
    "clock": ios("Configure time-of-day clock"),
    "clock timezone": ios("Configure time zone"),
    "clock timezone <zone>": ios("name of time zone"),
    # After a typed argument the path holds the typed word, so these go by name alone.
    "<hours>": ios("Hours offset from UTC"),
    "<minutes>": ios("Minutes offset from UTC"),
    "version": guess("Version of the software that saved this configuration"),
    "version <version>": guess("Version number"),
    "service": ios("Modify use of network based services"),
    "service timestamps": ios("Timestamp debug/log messages"),
    "service timestamps debug": ios("Timestamp debug messages"),
    "service timestamps log": ios("Timestamp log messages"),
    "datetime": ios("Timestamp with date and time"),
    "msec": ios("Include milliseconds in timestamp"),
    # ip
    "ip": ios("Global IP configuration subcommands"),
    "ip domain": ios("IP DNS Resolver"),
    "ip domain lookup": ios("Enable IP Domain Name System hostname translation"),
    "ip domain name": ios("Define the default domain name"),
    "ip domain name <name>": ios("Default domain name"),
    "ip domain-lookup": ios("Enable IP Domain Name System hostname translation"),
    "ip domain-name": ios("Define the default domain name"),
    "ip domain-name <name>": ios("Default domain name"),
    "ip host": ios("Add an entry to the ip hostname table"),
    "ip host <host>": ios("Name of host"),
    "ip host <addr>": ios("Host IP address"),
    "ip http": ios("HTTP server configuration"),
    "ip http server": ios("Enable HTTP server"),
    "ip http port": ios("HTTP port"),
    "ip http port <port>": guess("HTTP server port number"),
    "ip http secure-server": ios("Enable HTTP secure server"),
    "ip http secure-trustpoint": guess("Set the secure server's certificate trustpoint"),
    "ip http secure-trustpoint <tp>": guess("Trustpoint Name"),
    "clock calendar-valid": ios("Calendar time is authoritative"),
    "ntp": ios("Configure NTP"),
    "ntp master": ios("Act as NTP master clock"),
    "ntp master <stratum>": ios("Stratum number"),
    "ntp server": ios("Configure NTP server"),
    "ntp server <addr>": ios("IP address of peer"),
    "ntp server prefer": ios("Prefer this peer when possible"),
    # crypto pki
    "crypto": ios("Encryption module"),
    "crypto pki": ios("Public Key components"),
    "crypto pki authenticate": ios("Get the certificate authority certificate"),
    "crypto pki authenticate <tp>": guess("Trustpoint Name"),
    "crypto pki certificate": guess("Actions on certificates"),
    "crypto pki certificate chain": guess("Enter a trustpoint's certificate chain"),
    "crypto pki certificate chain <name>": guess("Trustpoint Name"),
    "crypto pki crl": guess("Certificate Revocation List"),
    "crypto pki crl request": guess("Request a CRL from the CA"),
    "crypto pki crl request <tp>": guess("Trustpoint Name"),
    "crypto pki enroll": ios("Request a certificate from a CA"),
    "crypto pki enroll <tp>": guess("Trustpoint Name"),
    "crypto pki server": ios("Enable IOS Certificate Server"),
    "crypto pki server <name>": guess("Certificate Server name"),
    "crypto pki trustpoint": ios("Define a CA trustpoint"),
    "crypto pki trustpoint <name>": ios("Trustpoint Name"),
    # cut and paste, and the 12.3 `crypto ca` spellings (handlers_trustpoint); the tail
    # keys also describe `crypto ca export|import`
    "export": guess("Export certificates and keys"),
    "export <tp>": guess("Trustpoint Name"),
    "export pem": guess("Export in PEM format"),
    "export pem terminal": guess("Display the certificates on the terminal"),
    "export pem terminal des": guess("Encrypt the private key with DES"),
    "export pem terminal 3des": guess("Encrypt the private key with 3DES"),
    "terminal des password": guess("Passphrase protecting the private key follows"),
    "terminal 3des password": guess("Passphrase protecting the private key follows"),
    "import": guess("Import certificates and keys"),
    "import <tp>": guess("Trustpoint Name"),
    "import certificate": guess("Paste the router certificate at the terminal"),
    "crypto ca": guess("Certification authority (12.3 name of crypto pki)"),
    "crypto ca authenticate": ios("Get the certificate authority certificate"),
    "crypto ca authenticate <tp>": guess("Trustpoint Name"),
    "crypto ca certificate": guess("Actions on certificates"),
    "crypto ca certificate chain": guess("Enter a trustpoint's certificate chain"),
    "crypto ca certificate chain <name>": guess("Trustpoint Name"),
    "crypto ca crl": guess("Certificate Revocation List"),
    "crypto ca crl request": guess("Request a CRL from the CA"),
    "crypto ca crl request <tp>": guess("Trustpoint Name"),
    "crypto ca enroll": ios("Request a certificate from a CA"),
    "crypto ca enroll <tp>": guess("Trustpoint Name"),
    "crypto ca trustpoint": ios("Define a CA trustpoint"),
    "crypto ca trustpoint <name>": ios("Trustpoint Name"),
    # crypto key generate rsa [general-keys|usage-keys] [label L] [exportable] [modulus N]
    "crypto key": ios("Long term key operations"),
    "crypto key generate": ios("Generate new keys"),
    "crypto key generate rsa": ios("Generate RSA keys"),
    "general-keys": ios("Generate a general purpose RSA key pair for signing and encryption"),
    "label": ios("Provide a label"),
    "<label>": guess("RSA key pair label"),
    "exportable": ios("Allow the key to be exported"),
    "modulus": ios("Provide number of modulus bits on the command line"),
    "<bits>": guess("Size of the key modulus"),
    "usage-keys": ios("Generate separate RSA key pairs for signing and encryption"),
    # crypto key zeroize rsa [L]; crypto key {export|import} rsa L pem ... (handlers_keys)
    "crypto key zeroize": ios("Remove keys"),
    "crypto key zeroize rsa": ios("Remove RSA keys"),
    "crypto key export": ios("Export keys"),
    "crypto key export rsa": ios("Export RSA keys"),
    "crypto key import": ios("Import keys"),
    "crypto key import rsa": ios("Import RSA keys"),
    "crypto key export rsa pem": guess("Export the key pair in PEM format"),
    "crypto key export rsa pem terminal": guess("Display the PEM text on the terminal"),
    "crypto key export rsa pem url": guess("Write the PEM files to a URL"),
    "crypto key export rsa pem url <url>": guess("nvram:, flash: or tftp:// URL"),
    "crypto key export rsa pem terminal des": guess("Encrypt the private key with DES"),
    "crypto key export rsa pem url des": guess("Encrypt the private key with DES"),
    "crypto key export rsa pem terminal 3des": guess("Encrypt the private key with 3DES"),
    "crypto key export rsa pem url 3des": guess("Encrypt the private key with 3DES"),
    "crypto key import rsa pem": guess("Import a key pair in PEM format"),
    "crypto key import rsa pem usage-keys": guess("Import signature and encryption key pairs"),
    "crypto key import rsa pem terminal": guess("Paste the PEM text at the terminal"),
    "import rsa pem usage-keys terminal": guess("Paste the PEM text at the terminal"),
    "crypto key import rsa pem url": guess("Read the PEM files from a URL"),
    "import rsa pem usage-keys url": guess("Read the PEM files from a URL"),
    "crypto key import rsa pem url <url>": guess("nvram:, flash: or tftp:// URL"),
    "import rsa pem usage-keys url <url>": guess("nvram:, flash: or tftp:// URL"),
    "<passphrase>": guess("Passphrase protecting the private key"),
}

_CONFIG_STORAGE: dict[str, HelpText] = {
    "tftp-server": ios("Provide TFTP service for netload requests"),
    "tftp-server <path>": guess("flash: file, or flash: folder ending in /, to serve"),
    "crypto pki export pkcs12": guess("Export the trustpoint as a PKCS12 file"),
    "crypto pki export pkcs12 <url>": guess("Destination URL"),
    "crypto pki export pkcs12 password": guess("Password protecting the PKCS12 file"),
    "crypto pki export pkcs12 password <password>": guess("The password"),
    "crypto pki import pkcs12": guess("Import a PKCS12 file"),
    "crypto pki import pkcs12 <url>": guess("Source URL"),
    "crypto pki import pkcs12 password": guess("Password of the PKCS12 file"),
    "crypto pki import pkcs12 password <password>": guess("The password"),
}
_CONFIG.update(_CONFIG_STORAGE)

_TRUSTPOINT: dict[str, HelpText] = {
    **_CONFIG_EXITS,
    "exit": guess("Exit from ca-trustpoint configuration mode"),
    "auto-enroll": guess("Renew the certificate automatically"),
    "auto-enroll <percent>": guess("Percentage of the certificate's lifetime to renew at"),
    "enrollment": guess("Enrollment parameters"),
    "enrollment retry": guess("Polling parameters"),
    "enrollment retry count": guess("Number of times to poll"),
    "enrollment retry count <count>": guess("Number of polls"),
    "enrollment retry period": guess("Time between polls"),
    "enrollment retry period <minutes>": guess("Minutes between polls"),
    "enrollment url": guess("CA server enrollment URL"),
    "enrollment url <url>": guess("http://CA-name[:port][/path]"),
    "enrollment credential": guess("Sign requests with another trustpoint's certificate"),
    "enrollment credential <label>": guess("Trustpoint name"),
    "ip-address": guess("Include an IP address in the request"),
    "ip-address <where>": guess("IP address, interface name or none"),
    "password": guess("Challenge password for enrollment requests"),
    "password 0": guess("Specifies an UNENCRYPTED password will follow"),
    "password 7": guess("Specifies a HIDDEN password will follow"),
    "password <password>": guess("The challenge password"),
    "password 0 <password>": guess("The challenge password"),
    "password 7 <password>": guess("The challenge password, as running-config shows it"),
    "serial-number": guess("Include the router serial number in the request"),
    "serial-number none": guess("Never include the serial number"),
    "fingerprint": guess("Expected CA certificate fingerprint"),
    "fingerprint <hex>": guess("CA certificate fingerprint (MD5 or SHA1, hex)"),
    "revocation-check": guess("Revocation checking options"),
    "revocation-check crl": guess("Check revocation with a CRL"),
    "revocation-check none": guess("Ignore revocation status"),
    "revocation-check ocsp": guess("Check revocation with OCSP"),
    # The second and third methods of `revocation-check crl none` (looked up by their
    # last word, so a method after a method finds these).
    "crl": guess("Check revocation with a CRL"),
    "none": guess("Ignore revocation status"),
    "ocsp": guess("Check revocation with OCSP"),
    "rsakeypair": guess("Specify the key pair"),
    "rsakeypair <label>": guess("Key pair label"),
    "rsakeypair <bits>": guess("Size of the key modulus if the key is generated"),
    "subject-name": guess("Subject name to request"),
    "subject-name <dn>": guess("Distinguished name, e.g. CN=router.lab,O=Lab"),
    # handlers_trustpoint
    "show": guess("Show the trustpoint's configuration"),
    "auto-enroll regenerate": guess("Generate a new key pair for the renewal"),
    "eku": guess("Extended key usage"),
    "eku request": guess("Extended key usage to request"),
    "eku request <purposes>": guess("client-auth, server-auth, ipsec-end-system, ..."),
    "enrollment mode": guess("Mode supported by the Certificate Authority"),
    "enrollment mode ra": guess("Registration Authority mode"),
    "enrollment selfsigned": guess("Self Signed Certificate"),
    "enrollment terminal": guess("Enroll via the terminal (cut-and-paste)"),
    "enrollment terminal pem": guess("Use PEM framing for the request"),
    "fqdn": guess("Fully qualified domain name to include in the request"),
    "fqdn <name>": guess("Domain name, or none"),
    "hash": guess("Hash algorithm to sign the request with"),
    "hash md5": guess("MD5"),
    "hash sha1": guess("SHA-1"),
    "hash sha256": guess("SHA-256"),
    "hash sha384": guess("SHA-384"),
    "hash sha512": guess("SHA-512"),
    "source": guess("Source for PKI traffic"),
    "source interface": guess("Interface whose address PKI traffic leaves from"),
    "source interface <interface>": guess("Interface name"),
    "subject-alt-name": guess("Subject alternative name to request"),
    "subject-alt-name <name>": guess("DNS name"),
    "usage": guess("Intended use of the certificate"),
    "usage ike": guess("IKE"),
    "usage ssl-client": guess("SSL client"),
    "usage ssl-server": guess("SSL server"),
    "vrf": guess("VRF for PKI traffic"),
    "vrf <name>": guess("VRF name"),
}

_CS_SERVER: dict[str, HelpText] = {
    **_CONFIG_EXITS,
    "exit": guess("Exit from certificate server configuration mode"),
    "database": guess("Certificate Server database options"),
    "database archive": guess("Archive the CA key and certificate"),
    "database archive pem": guess("Archive in PEM format"),
    "database archive pkcs12": guess("Archive in PKCS12 format"),
    # `database archive {pkcs12|pem} password [0|7] PW`: the only `password` in this mode.
    "password": guess("Password protecting the archive"),
    "password 0": guess("Specifies an UNENCRYPTED password will follow"),
    "password 7": guess("Specifies a HIDDEN password will follow"),
    "password <password>": guess("The archive password"),
    "password 0 <password>": guess("The archive password"),
    "password 7 <password>": guess("The archive password, as running-config shows it"),
    "database level": guess("What the database stores about each certificate"),
    "database level complete": guess("Each issued certificate in full"),
    "database level minimum": guess("Only what is needed to issue unique serial numbers"),
    "database level names": guess("Serial number and subject name"),
    "database url": guess("Where the database files are kept"),
    "database url <url>": guess("Database location (nvram:)"),
    "grant": guess("Enrollment request grant options"),
    "grant auto": guess("Grant all requests automatically"),
    "grant none": guess("Reject all requests automatically"),
    # the rest of the CS life (sim.router.handlers_cs_life)
    "grant auto trustpoint": guess("Grant requests signed by a certificate from this "
                                   "trustpoint's CA"),
    "grant auto trustpoint <tp1>": guess("Trustpoint name"),
    "grant auto tp-list": guess("Grant requests signed by a certificate from these "
                                "trustpoints' CAs (up to 5)"),
    "grant auto tp-list <tp1>": guess("Trustpoint name"),
    "<tp2>": guess("Trustpoint name"),
    "<tp3>": guess("Trustpoint name"),
    "<tp4>": guess("Trustpoint name"),
    "<tp5>": guess("Trustpoint name"),
    "hash": guess("Hash algorithm to sign with"),
    "hash md5": guess("MD5"),
    "hash sha1": guess("SHA-1"),
    "hash sha256": guess("SHA-256"),
    "hash sha384": guess("SHA-384"),
    "hash sha512": guess("SHA-512"),
    "issuer-name": guess("The CA's distinguished name"),
    "issuer-name <dn>": guess("Distinguished name, e.g. CN=Lab CA,O=Lab"),
    "lifetime": guess("Lifetimes of certificates, CRLs and requests"),
    "lifetime ca-certificate": guess("Lifetime of the CA certificate"),
    "lifetime ca-certificate <days>": guess("Days"),
    "lifetime certificate": guess("Lifetime of issued certificates"),
    "lifetime certificate <days>": guess("Days"),
    "lifetime crl": guess("Lifetime of the CRL"),
    "lifetime enrollment-request": guess("How long a request is kept"),
    "<hours>": guess("Hours"),
    "<minutes>": guess("Minutes"),
    "mode": guess("Certificate Server mode"),
    "mode sub-cs": guess("Subordinate certificate server"),
    # RA mode (sim.router.handlers_ra)
    "mode ra": guess("Registration authority: forward requests to the issuing CA"),
    "mode ra transparent": guess("Forward the clients' original requests unchanged"),
    "grant ra-auto": guess("Grant requests forwarded by a recognised RA automatically"),
    # CA rollover (sim.router.handlers_rollover)
    "auto-rollover": guess("Automatic CA certificate rollover"),
    "auto-rollover <days>": guess("Overlap: days before the CA certificate expires "
                                  "(default 30)"),
    "grant auto rollover": guess("Grant rollover requests automatically"),
    "grant auto rollover ca-cert": guess("Subordinate CA rollover requests"),
    "grant auto rollover ra-cert": guess("RA rollover requests"),
    "shutdown": guess("Shut down the certificate server"),
    "show": guess("Show certificate server settings"),
    # storage (sim.router.handlers_cs_storage)
    "cnm": guess("Subject name files (<serial>.cnm)"),
    "crl": guess("The CRL file (critical)"),
    "crt": guess("Issued certificate files (<serial>.cer)"),
    "p12": guess("The PKCS12 archive"),
    "database url pem": guess("The PEM archive"),
    "ser": guess("The serial number file (critical)"),
    "publish": guess("Also copy the files to this location"),
    "<url>": guess("Location: nvram:, flash:[folder/] or tftp://host/folder/"),
    "database username": guess("Login for the database location"),
    "database username <user>": guess("User name"),
    "database username password": guess("Password of the login"),
    "database username password 0": guess("Specifies an UNENCRYPTED password will follow"),
    "database username password 7": guess("Specifies a HIDDEN password will follow"),
    "database username password <password>": guess("The password"),
    "database username password 0 <password>": guess("The password"),
    "database username password 7 <password>": guess("The password, as running-config "
                                                      "shows it"),
    "serial-number": guess("Last serial number issued (when the .ser file is lost)"),
    "serial-number <serial>": guess("Serial number, 0x hex or decimal"),
    "redundancy": guess("Synchronise the database with a standby router"),
    # CRL distribution (sim.router.handlers_crl)
    "cdp-url": guess("CRL distribution point (CDP) to be put in the certificates"),
    "cdp-url <url>": guess("URL of the CDP, e.g. "
                           "http://host/cgi-bin/pkiclient.exe?operation=GetCRL"),
}

_CERT_CHAIN: dict[str, HelpText] = {
    "certificate": guess("A certificate, in hex, up to 'quit'"),
    "certificate ca": guess("The CA certificate"),
    "<serial>": guess("Certificate serial number (hex)"),
    "exit": guess("Exit from certificate chain configuration mode"),
}

TEXTS: dict[Mode, dict[str, HelpText]] = {
    Mode.USER_EXEC: _EXEC,
    Mode.EXEC: _EXEC,
    Mode.CONFIG: _CONFIG,
    Mode.TRUSTPOINT: _TRUSTPOINT,
    Mode.CS_SERVER: _CS_SERVER,
    Mode.CERT_CHAIN: _CERT_CHAIN,
}
# The IKE commands' texts (sim.router.cli_help_ike); its submodes take `do`/`end`/`no` too.
for _mode, _table in IKE_TEXTS.items():
    TEXTS.setdefault(_mode, dict(_CONFIG_EXITS)).update(
        {key: HelpText(text, verified) for key, (text, verified) in _table.items()})
HEADERS.update({mode: HelpText(text, verified) for mode, (text, verified)
                in IKE_HEADERS.items()})


FILTER_TEXTS: dict[str, HelpText] = {
    "|": ios("Output modifiers"),
    "begin": ios("Begin with the line that matches"),
    "exclude": ios("Exclude lines that match"),
    "include": ios("Include lines that match"),
    "section": ios("Filter a section of output"),
    "<regex>": ios("Regular Expression"),
}
"""Help after a complete `show` command: its `|`, then the output modifiers pkilab
implements (`sim.router.output_filter`; IOS also lists append, count, redirect, tee)."""


def lookup_key(mode: Mode, path: tuple[str, ...], token: str) -> str | None:
    """The key of `mode`'s table that describes `token` (a keyword, or `<name>` for an
    argument) after `path`: the longest one that ends the path; None when none does."""
    table = TEXTS.get(mode, {})
    if path[:1] == ("no",):
        path = path[1:]
    for start in range(len(path) + 1):
        key = " ".join((*path[start:], token))
        if key in table:
            return key
    return None


def lookup(mode: Mode, path: tuple[str, ...], token: str) -> HelpText | None:
    """The text for `token` after `path` (see `lookup_key`)."""
    key = lookup_key(mode, path, token)
    return None if key is None else TEXTS[mode][key]


_GENERIC_ARGUMENTS = {
    "WORD": "Name",
    "LINE": "Text",
    "A.B.C.D": "IP address",
    "hh:mm:ss": "Time",
    "MONTH": "Month",
}


def generic_text(token: str, shown: str | None = None) -> str:
    """A plain description for a token the tables do not know (a command added later).

    `shown` is how an argument is displayed (`WORD`, `<1-100>`); keywords pass None.
    tests/test_cli_help.py fails while any command of pkilab's grammar falls back here.
    """
    if shown is None:
        return token.replace("-", " ").capitalize()
    if shown.startswith("<"):
        return "Number"
    return _GENERIC_ARGUMENTS.get(shown, "Value")
