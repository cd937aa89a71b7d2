"""The IOS command line as a person at the console sees it."""

from __future__ import annotations

from routerkit import Lab

from sim.pki.cs_fsm import CsState


def enabled_ca(lab: Lab):
    router = lab.router("ca", "10.0.0.1", "ip http server")
    lab.type(router, "enable\nconfigure terminal\ncrypto pki server ca\nno shutdown\nend",
             ("cisco123", "cisco123"))
    assert router.server_state() is CsState.ENABLED
    return router


def test_abbreviations_reach_the_same_command() -> None:
    """Abbreviated commands such as `sh cry pki ser` would be refused or print something other
    than the full `show crypto pki server`."""
    lab = Lab()
    router = enabled_ca(lab)
    full = lab.type(router, "show crypto pki server")
    short = lab.type(router, "sh cry pki ser")
    assert full[1:] == short[1:]
    assert "  Status: enabled" in short
    assert short[0] == "ca#sh cry pki ser"


def test_invalid_input_caret_sits_under_the_bad_word() -> None:
    """A mistyped command would not get IOS's `% Invalid input detected at '^' marker.` with the
    caret under the bad word."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.1")
    out = lab.type(router, "enable\nconfigure terminal\ncrypto pki servr x")
    assert out[-3:] == [
        "r1(config)#crypto pki servr x",
        "                      ^",
        "% Invalid input detected at '^' marker.",
    ]
    assert out[-2].index("^") == len("r1(config)#crypto pki ")


def test_incomplete_and_ambiguous() -> None:
    """`show crypto` or `d` would not print IOS's `% Incomplete command.` or `% Ambiguous
    command:` messages."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.1")
    out = lab.type(router, "enable\nshow crypto\nd")
    assert "% Incomplete command." in out
    assert '% Ambiguous command:  "d"' in out


def test_unknown_exec_word_is_looked_up_as_a_host() -> None:
    """An unknown word at the EXEC prompt would not give IOS's `Translating "foo"...` host lookup
    and `% Unknown command` lines, or `ip host` names would not telnet."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.1", "ip host peer 10.0.0.2")
    out = lab.type(router, "enable\nfoo\npeer")
    assert 'Translating "foo"...domain server (255.255.255.255)' in out
    assert "% Unknown command or computer name, or unable to find computer address" in out
    assert "Trying peer (10.0.0.2)... % Connection refused by remote host" in out


def test_no_forms_and_do() -> None:
    """`no ip http server` would not turn the server off, or `do show` in config mode would fail
    or misplace the caret on a typo."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.1", "ip http server")
    assert router.running.http_server
    out = lab.type(router, "enable\nconf t\nno ip http server\ndo show ip http server status")
    assert not router.running.http_server
    assert "HTTP server status: Disabled" in out
    out = lab.type(router, "do sh clok")
    assert out[-2:] == [" " * len("r1(config)#do sh ") + "^",
                        "% Invalid input detected at '^' marker."]


def test_global_command_in_a_submode_leaves_the_submode() -> None:
    """A global command typed in a trustpoint submode would be refused or leave the prompt in the
    submode, unlike IOS."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.1")
    out = lab.type(router, "enable\nconf t\ncrypto pki trustpoint tp\nhostname r9\nexit")
    assert "r1(ca-trustpoint)#hostname r9" in out
    assert out[-2] == "r9(config)#exit"
    assert out[-1].endswith("%SYS-5-CONFIG_I: Configured from console by console")
    assert router.session.mode.name == "EXEC"


def test_empty_passphrase_aborts() -> None:
    """An empty password at the CA's `no shutdown` would start the server or make a key instead
    of printing `% Aborted.`."""
    lab = Lab()
    router = lab.router("ca", "10.0.0.1", "ip http server")
    out = lab.type(router, "enable\nconf t\ncrypto pki server ca\nno shutdown", ("",))
    assert out[-2:] == ["Password:", "% Aborted."]
    assert router.server_state() is CsState.INITIAL
    assert router.running.keys.get("ca") is None


def test_missing_answer_counts_as_return_and_is_traced() -> None:
    """A scenario `cli:` that runs out of `input:` answers would hang or crash instead of taking
    Return and recording the missing answer in the trace."""
    lab = Lab()
    router = lab.router("ca", "10.0.0.1", "ip http server")
    out = lab.type(router, "enable\nconf t\ncrypto pki server ca\nno shutdown")
    assert out[-1] == "% Aborted."
    assert lab.env.trace.select(router="ca", category="console", name="input.missing")


def test_mismatched_passphrase() -> None:
    """Two different passwords at `no shutdown` would start the CA instead of printing `%
    Passwords do not match.`."""
    lab = Lab()
    router = lab.router("ca", "10.0.0.1", "ip http server")
    out = lab.type(router, "enable\nconf t\ncrypto pki server ca\nno shutdown",
                   ("cisco123", "cisco124"))
    assert "% Passwords do not match." in out
    assert router.server_state() is CsState.INITIAL


def test_yes_no_prompt_reasks_once_then_gives_up() -> None:
    """A yes/no prompt would take a bad answer, ask forever, or `no crypto pki server` would
    leave its .ser file behind."""
    lab = Lab()
    router = enabled_ca(lab)
    out = lab.type(router, "conf t\nno crypto pki server ca", ("maybe", ""))
    assert out.count("% Please answer 'yes' or 'no'.") == 2
    assert "ca" in router.running.servers
    out = lab.type(router, "no crypto pki server ca", ("yes",))
    assert "ca" not in router.running.servers
    assert not router.nvram.exists("ca.ser")


def test_locked_server_refuses_changes_until_shut() -> None:
    """An enabled CA would accept setting changes instead of saying its configuration is locked,
    or `shutdown`/`no shutdown` would not print the queued-event and syslog lines."""
    lab = Lab()
    router = enabled_ca(lab)
    out = lab.type(router, "conf t\ncrypto pki server ca\ngrant auto")
    assert out[-1] == "% Server's configuration is locked (enter \"shut\" to unlock it)"
    out = lab.type(router, "shutdown\ngrant auto")
    assert "Certificate server 'shut' event has been queued for processing." in out
    assert any("%PKI-6-CS_DISABLED: Certificate server now disabled." in line for line in out)
    assert any("%PKI-6-CS_GRANT_AUTO" in line for line in out)
    assert router.running.servers["ca"].config.grant == "auto"
    out = lab.type(router, "no shutdown")
    assert "Certificate server 'no shut' event has been queued for processing." in out
    assert router.server_state() is CsState.ENABLED


def test_running_config_and_write_memory() -> None:
    """`show running-config` would miss the CA's server, trustpoint or certificate chain, or
    `write memory` would not save and print `[OK]`."""
    lab = Lab()
    router = enabled_ca(lab)
    out = lab.type(router, "show running-config")
    assert "crypto pki server ca" in out
    assert "crypto pki trustpoint ca" in out
    assert " certificate ca 01" in out
    assert router.config_modified()
    out = lab.type(router, "write memory")
    assert out[-2:] == ["Building configuration...", "[OK]"]
    assert not router.config_modified()
    out = lab.type(router, "show startup-config")
    assert out[1].startswith("Using ")


def test_copy_running_config_prompts_for_destination() -> None:
    """`copy running-config startup-config` would not ask `Destination filename
    [startup-config]?` or not save."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.1")
    out = lab.type(router, "enable\ncopy running-config startup-config", ("",))
    assert "Destination filename [startup-config]?" in out
    assert router.nvram.exists("startup-config")


def test_debug_toggles() -> None:
    """`debug crypto pki ...`, `show debugging` or `undebug all` would print the wrong lines or
    leave debugging on."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.1")
    out = lab.type(router, "enable\ndebug crypto pki server\ndebug crypto pki transactions\n"
                           "show debugging\nundebug all\nshow debugging")
    assert "Crypto PKI Certificate Server debugging is on" in out
    assert "  Crypto PKI Trans debugging is on" in out
    assert "All possible debugging has been turned off" in out
    assert router.running.debug == set()


def test_clock_set_and_show_clock() -> None:
    """`show clock` would not mark an unset clock with `*`, or `clock set` would not change what
    it shows."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.1", clock_set=False)
    out = lab.type(router, "show clock")
    assert out[-1].startswith("*21:00:")
    out = lab.type(router, "enable\nclock set 10:30:00 Mar 5 2006\nshow clock")
    assert out[-1].startswith("10:30:01.000 UTC Sun Mar 5 2006")


def test_crypto_key_generate_asks_for_modulus() -> None:
    """`crypto key generate rsa` would not ask `How many bits in the modulus [512]:` or make a
    key of a different size."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.1")
    out = lab.type(router, "enable\nconf t\ncrypto key generate rsa label k1", ("1024",))
    assert "How many bits in the modulus [512]: 1024" in out
    assert out[-1] == "% Generating 1024 bit RSA keys ...[OK]"
    assert router.running.keys.get("k1").bits == 1024


def test_dir_nvram_lists_sizes() -> None:
    """`dir nvram:` would not list the CA's files like ca.ser or the free space line."""
    lab = Lab()
    router = enabled_ca(lab)
    out = lab.type(router, "dir nvram:")
    assert out[1] == "Directory of nvram:/"
    assert any(line.endswith("ca.ser") for line in out)
    assert out[-1].endswith("bytes free)")


def test_erase_nvram() -> None:
    """`erase nvram:` would not report completion or would leave the startup config in place."""
    lab = Lab()
    router = enabled_ca(lab)
    lab.type(router, "write memory")
    out = lab.type(router, "erase nvram:", ("",))
    assert "Erase of nvram: complete" in out
    assert not router.nvram.exists("startup-config")


def test_debug_all_asks_first() -> None:
    """`debug all` would turn debugging on without IOS's `Continue? (yes/[no])` question, or `no
    debug all` would not turn it off."""
    lab = Lab()
    router = lab.router("r1", "10.0.0.1")
    out = lab.type(router, "enable\ndebug all", ("",))
    assert out[-1] == "This may severely impact network performance. Continue? (yes/[no]):"
    assert router.running.debug == set()
    out = lab.type(router, "debug all", ("yes",))
    assert out[-1] == "All possible debugging has been turned on"
    assert router.running.debug == {"pki-server", "pki-transactions", "pki-messages",
                                    "pki-validation", "pki-callbacks"}
    lab.type(router, "no debug all")
    assert router.running.debug == set()


def test_show_certificates_and_trustpoints_of_a_root() -> None:
    """On a root CA, `show crypto pki certificates` or `show crypto pki trustpoints` would print
    different lines from IOS."""
    lab = Lab()
    router = enabled_ca(lab)
    out = lab.type(router, "show crypto pki certificates")
    assert out[1:4] == ["CA Certificate", "  Status: Available", "  Certificate Serial Number: 01"]
    assert "    cn=ca" in out
    assert "  Associated Trustpoints: ca " in out
    out = lab.type(router, "show crypto pki trustpoints")
    assert out[1:] == ["Trustpoint ca:", "    Subject Name: ", "    cn=ca",
                       "          Serial Number (hex): 01", "    Certificate configured.", ""]


def test_server_settings_show_up_in_show_output_and_config() -> None:
    """Server settings such as issuer-name, grant auto, lifetimes or database level would not
    take effect or not appear in `show crypto pki server` and the running config."""
    lab = Lab()
    router = lab.router("ca", "10.0.0.1", "ip http server")
    lab.type(router, "enable\nconf t\ncrypto pki server ca\nissuer-name CN=Lab CA, O=pkilab\n"
                     "grant auto\nlifetime crl 24\nlifetime certificate 30\n"
                     "lifetime ca-certificate 730\ndatabase level complete\nno shutdown\nend",
             ("cisco123", "cisco123"))
    out = lab.type(router, "show crypto pki server")
    assert "  Issuer name: CN=Lab CA, O=pkilab" in out
    assert "  Granting mode is: auto" in out
    assert "  Database Level: Complete - all issued certs written as <serialnum>.cer" in out
    cs = router.running.servers["ca"]
    assert cs.ca_cert.subject.rfc4514_string() == "CN=Lab CA,O=pkilab"
    lifetime = cs.ca_cert.not_valid_after_utc - cs.ca_cert.not_valid_before_utc
    assert lifetime.days == 730
    crl = cs.crl
    assert (crl.next_update_utc - crl.last_update_utc).total_seconds() == 24 * 3600
    config = lab.type(router, "show running-config")
    for line in (" issuer-name CN=Lab CA, O=pkilab", " grant auto", " lifetime crl 24",
                 " lifetime certificate 30", " lifetime ca-certificate 730",
                 " database level complete"):
        assert line in config


def test_issuer_name_cannot_change_after_the_ca_certificate_exists() -> None:
    """`issuer-name` would be accepted after the CA certificate exists, or a bad name would not
    be refused."""
    lab = Lab()
    router = enabled_ca(lab)
    out = lab.type(router, "conf t\ncrypto pki server ca\nshutdown\nissuer-name CN=other")
    assert out[-1] == "% This setting cannot be changed after CA certificate generation."
    out = lab.type(router, "issuer-name =bad")
    assert out[-1].startswith("% ")
