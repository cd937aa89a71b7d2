"""The per-release facts of the router's system: image, `show version`, NTP's layouts.

One `SystemProfile` per IOS release; `sim.router.release.ReleaseProfile.system` holds it,
so handlers read `router.release.system.<field>` and never compare release names.

chosen (all of it: no `show version` of these exact images is in pkilab's references):
- 12.3(14)T: a Cisco 2691 (the 2600 class `BOOT_SECONDS` and `dir nvram:` model) running
  `c2691-adventerprisek9-mz.123-14.T.bin`;
- 15.x: IOSv 15.7(3)M3 (`vios-adventerprisek9-m`), matching the `version 15.7` line of the
  running configuration; IOSv's configuration register is 0x0;
- XE: CSR1000v running IOS-XE 17.3.4a (Amsterdam), matching `version 17.3`. The GPL and
  licence paragraphs IOS-XE prints after its banner are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sim.router import show_ntp

CRYPTO_NOTICE = (
    "This product contains cryptographic features and is subject to United",
    "States and local country laws governing import, export, transfer and",
    "use. Delivery of Cisco cryptographic products does not imply",
    "third-party authority to import, export, distribute or use encryption.",
    "Importers, exporters, distributors and users are responsible for",
    "compliance with U.S. and local country laws. By using this product you",
    "agree to comply with applicable laws and regulations. If you are unable",
    "to comply with U.S. and local laws, return this product immediately.",
    "",
    "A summary of U.S. laws governing Cisco cryptographic products may be found at:",
    "http://www.cisco.com/wwl/export/crypto/tool/stqrg.html",
    "",
    "If you require further assistance please contact us by sending email to",
    "export@cisco.com.",
)
"""What every k9 (crypto) image prints in `show version`."""


@dataclass(frozen=True)
class SystemProfile:
    """What `show version` and the NTP displays print on one release."""

    banner: tuple[str, ...]
    """From `Cisco IOS Software, ...` down to the `ROM:` line."""
    image: str
    """`System image file is "<image>"`."""
    hardware: str
    """The processor and memory line."""
    config_register: str
    control_processor_uptime: bool
    """IOS-XE adds `Uptime for this control processor is ...`."""
    last_reload_reason: bool
    """15.x and XE print `Last reload reason: ...`; 12.3 does not."""
    trustpool: bool
    """`show crypto pki trustpool` exists (15.2(2)T and later; not on 12.3(14)T)."""
    ntp_refclock: str
    """The address of the `ntp master` local clock: 127.127.7.1 on 12.x, 127.127.1.1 later."""
    ntp_local_reference: str | None
    """How `show ntp associations` names the local clock's reference (`.LOCL.` on 15.x);
    None: its address again (12.x)."""
    ntp_unknown_reference: str
    """The ref clock of an association that never heard its server."""
    ntp_status: Callable[[show_ntp.NtpView], list[str]]
    ntp_associations: Callable[[show_ntp.NtpView], list[str]]


SYSTEM_12_3 = SystemProfile(
    banner=(
        "Cisco IOS Software, 2600 Software (C2691-ADVENTERPRISEK9-M), Version 12.3(14)T, "
        "RELEASE SOFTWARE (fc1)",
        "Technical Support: http://www.cisco.com/techsupport",
        "Copyright (c) 1986-2005 by Cisco Systems, Inc.",
        "Compiled Wed 01-Jun-05 22:11 by ccai",
        "",
        "ROM: System Bootstrap, Version 12.2(8r)T2, RELEASE SOFTWARE (fc1)",
    ),
    image="flash:c2691-adventerprisek9-mz.123-14.T.bin",
    hardware="Cisco 2691 (R7000) processor (revision 0.1) with 123904K/7168K bytes of memory.",
    config_register="0x2102",
    control_processor_uptime=False,
    last_reload_reason=False,
    trustpool=False,
    ntp_refclock="127.127.7.1",
    ntp_local_reference=None,
    ntp_unknown_reference="0.0.0.0",
    ntp_status=show_ntp.status_12,
    ntp_associations=show_ntp.associations_12,
)

SYSTEM_15 = SystemProfile(
    banner=(
        "Cisco IOS Software, IOSv Software (VIOS-ADVENTERPRISEK9-M), Version 15.7(3)M3, "
        "RELEASE SOFTWARE (fc2)",
        "Technical Support: http://www.cisco.com/techsupport",
        "Copyright (c) 1986-2018 by Cisco Systems, Inc.",
        "Compiled Wed 01-Aug-18 16:45 by prod_rel_team",
        "",
        "",
        "ROM: Bootstrap program is IOSv",
    ),
    image="flash0:/vios-adventerprisek9-m",
    hardware="Cisco IOSv (revision 1.0) with  with 460137K/62464K bytes of memory.",
    config_register="0x0",
    control_processor_uptime=False,
    last_reload_reason=True,
    trustpool=True,
    ntp_refclock="127.127.1.1",
    ntp_local_reference=".LOCL.",
    ntp_unknown_reference=".INIT.",
    ntp_status=show_ntp.status_15,
    ntp_associations=show_ntp.associations_15,
)

SYSTEM_XE = SystemProfile(
    banner=(
        "Cisco IOS XE Software, Version 17.03.04a",
        "Cisco IOS Software [Amsterdam], Virtual XE Software "
        "(X86_64_LINUX_IOSD-UNIVERSALK9-M), Version 17.3.4a, RELEASE SOFTWARE (fc3)",
        "Technical Support: http://www.cisco.com/techsupport",
        "Copyright (c) 1986-2021 by Cisco Systems, Inc.",
        "Compiled Tue 20-Jul-21 04:59 by mcpre",
        "",
        "",
        "ROM: IOS-XE ROMMON",
    ),
    image="bootflash:packages.conf",
    hardware="cisco CSR1000V (VXE) processor (revision VXE) with 2071829K/3075K bytes of "
             "memory.",
    config_register="0x2102",
    control_processor_uptime=True,
    last_reload_reason=True,
    trustpool=True,
    ntp_refclock="127.127.1.1",
    ntp_local_reference=".LOCL.",
    ntp_unknown_reference=".INIT.",
    ntp_status=show_ntp.status_15,
    ntp_associations=show_ntp.associations_15,
)
