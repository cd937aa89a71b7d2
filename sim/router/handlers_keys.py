"""RSA key commands of global configuration: `crypto key generate|zeroize|export|import rsa`.

Facts: cisco-client-docs.md 1 (syntax, the modulus dialogue, the replace and zeroize
questions, the PEM export transcript of the 12.3(4)T tech note). The keys themselves live in
`sim.router.keystore` (private-config); the PEM files in `sim.router.pem_legacy`.

IOS never writes these lines into a configuration. A startup-config may still hold
`crypto key generate rsa` (labs build keys that way); it makes the key once and never
replaces a saved one at boot. The other three need the console and are skipped there.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import rsa

from sim.kernel.process import SimProcess
from sim.router import filesystems, pem_legacy
from sim.router.cli_parser import Match, ParseError
from sim.router.command_table import CommandTable
from sim.router.console import Session
from sim.router.handlers_config import _hold_if_key_too_short
from sim.router.handlers_pki import not_run_at_boot
from sim.router.keystore import ENCRYPTION, GENERAL, SIGNATURE, KeyPair


def any_order(*parts: str) -> str:
    """Pattern DSL text taking each of `parts` at most once, in any order, or none at all.

    IOS reads `crypto key generate rsa`'s options in any order (`modulus 2048 label k` as
    well as `label k modulus 2048`); the DSL's optionals are ordered, so every ordering is
    spelled out as one alternative (4 parts: 64 orderings, 114 command forms with the
    `{general-keys|usage-keys}` choice, well under `cli_grammar.MAX_EXPANSIONS`).
    """
    forms = [" ".join(order) for size in range(1, len(parts) + 1)
             for order in itertools.permutations(parts, size)]
    return "[{" + "|".join(forms) + "}]"


# -- generate ------------------------------------------------------------------------------
GENERATE_OPTIONS = ("{general-keys|usage-keys}", "label <label:LABEL>", "exportable",
                    "modulus <bits:360-4096>")


def _key_generate(s: Session, m: Match) -> SimProcess[None]:
    """`crypto key generate rsa [general-keys|usage-keys] [label L] [exportable] [modulus N]`.

    Without `modulus` the size is asked, once per key ("the size question is asked once
    for `Signature Keys` and once for `Encryption Keys`", cisco-client-docs.md 1.1).
    """
    router = s.router
    largest = router.release.key_modulus_max
    if "bits" in m.args and m.integer("bits") > largest:
        # The release's parser range is `<360-2048>` before 15.1(1)T: a larger size is
        # invalid input at that number, like any out-of-range argument.
        _refuse_modulus(s, m.integer("bits"))
        return
    if "label" not in m.args and router.running.domain_name is None:
        # The default label is `hostname.domain`: IOS will not name keys without a domain
        # (ios-command-coverage.md, keys row [M]).
        s.write("% Please define a domain-name first.")
        return
    label = str(m.args.get("label") or router.running.fqdn)
    if _in_use_by_server(s, label):
        return
    existed = router.running.keys.get(label) is not None
    if existed:
        if s.booting:
            # A `crypto key generate` line in a startup-config must not replace, at every
            # boot, the saved key that the router's certificates carry.
            return
        if not (yield from _replace_question(s, label)):
            return
    s.write(f"The name for the keys will be: {label}")
    usages = [SIGNATURE, ENCRYPTION] if "usage-keys" in m.keywords else [GENERAL]
    if "bits" in m.args:
        s.write(f"% The key modulus size is {m.integer('bits')} bits")
    exportable = "exportable" in m.keywords
    made: list[rsa.RSAPrivateKey] = []
    for usage in usages:
        if "bits" in m.args:
            bits = m.integer("bits")
        else:
            if made:
                s.write("")  # chosen: a blank line before the second question
            asked = yield from _ask_modulus(s, usage, largest)
            if asked is None:
                return  # nothing is kept of a half-made usage pair (chosen)
            bits = asked
        seconds = router.release.keygen.seconds(bits)
        s.write(router.release.keygen_start(bits, exportable))
        yield router.env.timeout(seconds)
        made.append(router.generate_key(label, bits))
        if len(made) == len(usages):
            encryption = made[1] if len(made) > 1 else None
            router.running.keys.put(KeyPair(label, made[0], exportable, router.clock.now(),
                                            encryption))
        if usage == GENERAL:
            router.emit("pki", "key.generated", label=label, bits=bits)
        else:
            router.emit("pki", "key.generated", label=label, bits=bits, usage=usage)
        done = router.release.keygen_done(seconds)
        if router.release.keygen.done_inline:
            router.console_inline(done)
        else:
            router.console_line(done)
        if len(made) == len(usages):
            router.announce_key(label, replaced=existed)
    if s.booting and label in router.running.servers:
        _hold_if_key_too_short(s, router.running.servers[label])


def _ask_modulus(s: Session, usage: str, largest: int) -> SimProcess[int | None]:
    """IOS's size question (cisco-client-docs.md 1.1, 12.3(4)T3); the range's top is the
    release's. None (after saying so) for an answer outside the range."""
    s.write(f"Choose the size of the key modulus in the range of 360 to {largest} for your")
    s.write(f"  {usage} Keys. Choosing a key modulus greater than 512 may take")
    s.write("  a few minutes.")
    s.write("")
    answer = (yield from s.ask("How many bits in the modulus [512]:")).strip()
    chosen = _modulus_answer(answer, largest) if answer else 512
    if chosen is None:
        s.write(f"% Invalid modulus size; use a value from 360 to {largest}.")
    return chosen


def _modulus_answer(answer: str, largest: int) -> int | None:
    """The size typed at `How many bits in the modulus`, if it is one the prompt offers
    (360 to `largest`); anything else, however long or odd, is None."""
    if not (answer.isascii() and answer.isdigit()) or len(answer.lstrip("0")) > 4:
        return None
    bits = int(answer)
    return bits if 360 <= bits <= largest else None


def _refuse_modulus(s: Session, bits: int) -> None:
    """`% Invalid input detected at '^' marker.` under the modulus number, wherever the
    options put it (the caret goes under the token the release's range refuses)."""
    line = s.current_line
    tokens = [(t.start(), t.group()) for t in re.finditer(r"\S+", line)]
    column = tokens[-1][0]
    for (_at, word), (start, value) in itertools.pairwise(tokens):
        if "modulus".startswith(word.lower()) and (value.lstrip("0") or "0") == str(bits):
            column = start
            break
    token = line[column:].split()[0]
    s.render_error(ParseError("invalid", column, token, line))


def _replace_question(s: Session, label: str) -> SimProcess[bool]:
    """cisco-client-docs.md 1.1: `no` leaves the old keys."""
    s.write(f"% You already have RSA keys defined named {label}.")
    return (yield from s.ask_yes_no("% Do you really want to replace them? [yes/no]:"))


def _in_use_by_server(s: Session, label: str) -> bool:
    """The key pair `label` is the CA key of a certificate server that committed to it; says
    so. pkilab's wording (IOS's answer here was never captured): a CA must never sign with
    a key its own certificate does not carry, so the key is neither replaced nor removed.

    The server's key pair has the server's name. It is bound to the server from the first
    `no shutdown` (the server locks, then signs its CA certificate or enrolls with the key)
    until `no crypto pki server`; before that, generating the key is how an administrator
    chooses its size (cisco-cs.md 2: "Pre-generate the key ... to control it").
    """
    cs = s.router.running.servers.get(label)
    if cs is None or (cs.ca_cert is None and not cs.locked):
        return False
    s.write(f"% The key pair {label} is in use by the certificate server {cs.name}.")
    s.write(f"% Remove the certificate server first ('no crypto pki server {cs.name}').")
    return True


# -- zeroize -------------------------------------------------------------------------------
def _key_zeroize(s: Session, m: Match) -> SimProcess[None]:
    """`crypto key zeroize rsa [LABEL]`: "Without a label removes all RSA keys; certificates
    issued for those keys are removed too" (cisco-client-docs.md 1.2). The router
    certificates of every trustpoint enrolled with a removed key go; its CA certificate
    stays (it is the CA's, not issued for the key)."""
    if not_run_at_boot(s):
        return
    router = s.router
    store = router.running.keys
    label = m.args.get("label")
    if label is not None:
        labels = [str(label)]
        if store.get(labels[0]) is None:
            s.write(f"% RSA keypair {labels[0]} is not present.")  # chosen wording
            return
    else:
        labels = store.labels()
        if not labels:
            s.write("% No RSA keys are defined.")  # chosen wording
            return
    if [name for name in labels if _in_use_by_server(s, name)]:
        return  # chosen: all or nothing, so "All RSA keys" never means "all but one"
    if label is not None:
        s.write(f"% Keys to be removed are named {label}.")
    else:
        # chosen: "All RSA keys", the wording of IOS transcripts as recalled
        # (cisco-client-docs.md 1.2 has "% All keys will be removed." at [R?]).
        s.write("% All RSA keys will be removed.")
    s.write("% All router certs issued using these keys will also be removed.")
    if not (yield from s.ask_yes_no("Do you really want to remove these keys? [yes/no]:")):
        return
    for name in labels:
        store.remove(name)
        for tp in router.running.trustpoints.values():
            if tp.name in router.running.servers:
                continue  # a server's own trustpoint holds its CA certificate, keyed `tp.name`
            if (tp.rsakeypair or router.running.fqdn) == name and tp.id_cert is not None:
                # chosen: a request still pending is left to fail or be granted; only the
                # certificates held are removed, as the question says.
                tp.id_cert = None
        router.emit("pki", "key.zeroized", label=name)


# -- where PEM files go: nvram:, flash:, tftp:// -----------------------------------------------
_NAME_CHARS = re.compile(r"[A-Za-z0-9._+=@#%/-]+", re.ASCII)


@dataclass(frozen=True)
class _Place:
    """A key file URL split into the part before the file name (`nvram:`, `flash:keys/`,
    `tftp://10.0.0.9/`) and the file base name: the key label when the URL names none, as
    `url nvram:` does in cisco-client-docs.md 1.4 (`cisco1.pub`, `cisco1.prv`)."""

    device: str
    prefix: str
    base: str


def _place(s: Session, url: str, label: str) -> _Place | None:
    """Where `url` points; None (after IOS's error line) for a device the router lacks or
    a name no file can have."""
    where = filesystems.parse(url)
    if where.device not in (*filesystems.LOCAL_DEVICES, "tftp"):
        s.write(f"%Error opening {url} (No such device)")
        return None
    folder, _slash, base = where.path.rpartition("/")
    prefix = url[:len(url) - len(base)] if base else url
    if not prefix.endswith((":", "/")):
        prefix += "/"
    if (base or folder) and not _good_name(where.device, where.path.rstrip("/")):
        s.write(f"%Error opening {url} (Invalid argument)")
        return None
    return _Place(where.device, prefix, base or label)


def _good_name(device: str, name: str) -> bool:
    """A file name pkilab will write: printable ASCII without spaces, `\\` or `..`, and
    on nvram (a flat device) without folders. chosen: the rule key labels already follow
    (`cli_grammar._label`)."""
    if not name or len(name) > 128 or ".." in name or name.startswith(("/", ".")):
        return False
    if device == "nvram" and "/" in name:
        return False
    return bool(_NAME_CHARS.fullmatch(name))


def _suffix(usage: str) -> str:
    """The file name part of each half of a usage pair: `L-sign.pub`, `L-encr.prv` (the
    names IOS's usage-key import reads); a general-purpose pair's files are `L.pub`."""
    return {SIGNATURE: "-sign", ENCRYPTION: "-encr"}.get(usage, "")


# -- export ----------------------------------------------------------------------------------
def _key_export(s: Session, m: Match) -> SimProcess[None]:
    """`crypto key export rsa L pem {terminal|url URL} {des|3des} PASSPHRASE` (12.3(4)T):
    the public key and the encrypted private key, each in PEM (cisco-client-docs.md 1.4);
    "Only keys generated/imported `exportable` can be exported"."""
    if not_run_at_boot(s):
        return
    router = s.router
    label = str(m.args["label"])
    pair = router.running.keys.get(label)
    if pair is None:
        s.write(f"% RSA keypair {label} is not present.")  # chosen wording
        return
    if not pair.exportable:
        s.write(f"% RSA keypair {label} is not exportable.")  # chosen wording
        return
    cipher = "3des" if "3des" in m.keywords else "des"
    passphrase = str(m.args["passphrase"])
    place = None
    if "url" in m.keywords:
        place = _place(s, str(m.args["url"]), label)
        if place is None:
            return
    for usage, key in pair.parts():
        public = pem_legacy.public_pem(key)
        private = pem_legacy.encrypted_private_pem(key, passphrase, cipher,
                                                   router.random_bytes(8))
        s.write(f"% Key name: {label}")
        s.write(f"   Usage: {usage} Key")
        if place is None:
            s.write("Key data:")  # chosen: the feature guide's terminal layout, as recalled
            s.write_lines(_text_lines(public))
            s.write_lines(_text_lines(private))
            continue
        base = place.base + _suffix(usage)
        s.write("Exporting public key...")
        if not (yield from _write_file(s, place, f"{base}.pub", public)):
            return
        s.write("Exporting private key...")
        if not (yield from _write_file(s, place, f"{base}.prv", private)):
            return
    router.emit("pki", "key.exported", label=label,
                to="terminal" if place is None else place.device)


def _text_lines(pem: bytes) -> list[str]:
    return pem.decode("ascii").rstrip("\n").split("\n")


def _write_file(s: Session, place: _Place, default: str, data: bytes
                ) -> SimProcess[bool]:
    """`Destination filename [NAME]?`, then the write (cisco-client-docs.md 1.4)."""
    url = yield from _file_question(s, "Destination", place, default)
    if url is None:
        return False
    s.write(f"Writing file to {url}")
    failed = yield from filesystems.write(s.router, url, data)
    if failed is None:
        return True
    if failed.kind is not filesystems.FsFailure.FULL or place.device != "nvram":
        s.write(failed.text)  # a full nvram has said so already (`Router.write_nvram`)
    return False


def _file_question(s: Session, direction: str, place: _Place, default: str
                   ) -> SimProcess[str | None]:
    """IOS's copy question; Return takes the default. The URL of the file, or None (after
    saying why) for an answer that is not a file name pkilab will use."""
    answer = (yield from s.ask(f"{direction} filename [{default}]?")).strip()
    name = answer or default
    if not _good_name(place.device, name):
        s.write(f"%Error opening {place.prefix}{name} (Invalid argument)")
        return None
    return place.prefix + name


# -- import ----------------------------------------------------------------------------------
PASTE_LIMIT = 200
"""Most pasted lines read for one PEM block (pkilab's bound: a 4096-bit encrypted key is
about 55 lines; a paste that never ends must not grow without limit)."""


def _key_import(s: Session, m: Match) -> SimProcess[None]:
    """`crypto key import rsa L pem [usage-keys] {terminal|url URL} [exportable] PASSPHRASE`
    (cisco-client-docs.md 1.4): "Re-importing without `exportable` makes the key
    non-exportable". The public key (or a certificate carrying it) must match the private
    key. Prompts and messages are cisco-client-docs.md 1.4's [R?] wording."""
    if not_run_at_boot(s):
        return
    router = s.router
    label = str(m.args["label"])
    passphrase = str(m.args["passphrase"])
    if _in_use_by_server(s, label):
        return
    place = None
    if "url" in m.keywords:
        place = _place(s, str(m.args["url"]), label)
        if place is None:
            return
    existed = router.running.keys.get(label) is not None
    if existed:
        if not (yield from _replace_question(s, label)):
            return
    usages = [SIGNATURE, ENCRYPTION] if "usage-keys" in m.keywords else [GENERAL]
    keys: list[rsa.RSAPrivateKey] = []
    for usage in usages:
        if place is None:
            texts = yield from _pasted_pair(s, usage)
        else:
            texts = yield from _read_pair(s, place, usage)
        if texts is None:
            return
        try:
            keys.append(_checked_key(texts[0], texts[1], passphrase,
                                     router.release.key_modulus_max))
        except pem_legacy.PemError as bad:
            s.write(f"% Key pair import failed: {bad}.")  # chosen wording
            return
    router.running.keys.put(KeyPair(label, keys[0], "exportable" in m.keywords,
                                    router.clock.now(), keys[1] if len(keys) > 1 else None))
    router.emit("pki", "key.imported", label=label, bits=keys[0].key_size)
    s.write("% Key pair import succeeded.")
    router.announce_key(label, replaced=existed)


def _checked_key(public_text: bytes, private_text: bytes, passphrase: str, largest: int
                 ) -> rsa.RSAPrivateKey:
    """The pasted or read key pair, if the halves match and the modulus is one `crypto key
    generate rsa` could have made on this release (360 to `largest` bits)."""
    public = pem_legacy.load_public(public_text)
    key = pem_legacy.load_private(private_text, passphrase)
    if key.public_key().public_numbers() != public.public_numbers():
        raise pem_legacy.PemError("the public key does not match the private key")
    if not 360 <= key.key_size <= largest:
        raise pem_legacy.PemError(f"the key has {key.key_size} bits, outside 360 to {largest}")
    return key


def _pasted_pair(s: Session, usage: str) -> SimProcess[tuple[bytes, bytes] | None]:
    s.write(f"% Enter PEM-formatted public {usage} key or certificate.")
    s.write('% End with a blank line or "quit" on a line by itself.')
    public = yield from _pasted(s, blank_ends=True)
    s.write(f"% Enter PEM-formatted encrypted private {usage} key.")
    # The private block holds a blank line of its own (after DEK-Info): only `quit` ends it.
    s.write('% End with "quit" on a line by itself.')
    private = yield from _pasted(s, blank_ends=False)
    return public, private


def _pasted(s: Session, *, blank_ends: bool) -> SimProcess[bytes]:
    """Pasted lines up to the end marker (or the end of what the operator has to paste),
    as `crypto pki server NAME request pkcs10 terminal` reads a request."""
    lines: list[str] = []
    for _count in range(PASTE_LIMIT):
        line = yield from s.read_pasted_line()
        if line is None or line.strip().lower() == "quit":
            break
        if blank_ends and not line.strip():
            break
        lines.append(line.strip())
    return ("\n".join(lines) + "\n").encode("ascii", "replace")


def _read_pair(s: Session, place: _Place, usage: str
               ) -> SimProcess[tuple[bytes, bytes] | None]:
    base = place.base + _suffix(usage)
    s.write(f"% Importing public {usage} key or certificate PEM file...")
    public = yield from _read_file(s, place, f"{base}.pub")
    if public is None:
        return None
    s.write(f"% Importing private {usage} key PEM file...")
    private = yield from _read_file(s, place, f"{base}.prv")
    if private is None:
        return None
    return public, private


def _read_file(s: Session, place: _Place, default: str) -> SimProcess[bytes | None]:
    """`Source filename [NAME]?`, then the read; IOS's copy error when it fails."""
    url = yield from _file_question(s, "Source", place, default)
    if url is None:
        return None
    s.write(f"Reading file from {url}")  # chosen: the export's `Writing file to` turned
    got = yield from filesystems.read(s.router, url)
    if isinstance(got, filesystems.FsError):
        s.write(got.text)
        return None
    return got


KEY_CONFIG_COMMANDS: CommandTable = [
    ("crypto key generate rsa " + any_order(*GENERATE_OPTIONS), _key_generate, {}),
    ("crypto key zeroize rsa [<label:LABEL>]", _key_zeroize, {}),
    ("crypto key export rsa <label:LABEL> pem {terminal|url <url:WORD>} {des|3des} "
     "<passphrase:WORD>", _key_export, {}),
    ("crypto key import rsa <label:LABEL> pem [usage-keys] {terminal|url <url:WORD>} "
     "[exportable] <passphrase:WORD>", _key_import, {}),
]
"""Global configuration's key commands (`sim.router.commands` adds them to the mode)."""
