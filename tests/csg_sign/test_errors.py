"""Every way csg-sign can fail: one line on stderr naming the problem, exit status 2, no traceback,
and no signature written."""

from __future__ import annotations

import _ctypes
import datetime
import subprocess

from tests.csg_sign.conftest import P12_PASSPHRASE, write_p12

DOCUMENT = b"<ToKhai so='10123456789'/>"


def sign(token, *argv: str, env=None):
    (token.directory / "declaration.xml").write_bytes(DOCUMENT)
    return token.run("sign", "declaration.xml", "-o", "declaration.p7s", *argv, env=env)


def assert_refused(token, result, message: str) -> None:
    assert result.returncode == 2
    assert result.stderr == f"csg-sign: error: {message}\n"
    assert "Traceback" not in result.stderr + result.stdout
    assert not (token.directory / "declaration.p7s").exists()


def test_a_wrong_pin(token):
    result = sign(token, *token.token_args("ec"), env={"TOKEN_PIN": "135790"})

    assert_refused(token, result, "wrong PIN for token 'csg-test'")
    assert "135790" not in result.stderr


def test_a_pin_on_its_last_try_is_not_risked_and_a_locked_pin_is_named(token, locking_module):
    token.extra_env = {"LOCKING_TOKEN_STATE": str(token.directory / "pin-tries"), "LOCKING_TOKEN_TRIES": "3"}
    args = token.token_args("ec", module=locking_module)
    for _ in range(2):
        assert_refused(
            token, sign(token, *args, env={"TOKEN_PIN": "000000"}), "wrong PIN for token 'csg-test'"
        )

    # The token says one try is left: even the right PIN is not sent, lest a typing slip lock it.
    assert_refused(
        token,
        sign(token, *args),
        "the PIN of token 'csg-test' has one try left; csg-sign will not risk locking it. "
        "Check the PIN with your CA's token tool first",
    )
    # Another tool spends the last try.
    spent = subprocess.run(
        ["pkcs11-tool", "--module", str(locking_module), "--token-label", "csg-test", "--login",
         "--pin", "000000", "--list-objects"],
        env=token.env, capture_output=True, text=True,
    )  # fmt: skip
    assert "CKR_PIN_INCORRECT" in spent.stderr

    locked = (
        "the PIN of token 'csg-test' is locked after too many wrong tries; "
        "unlock it with your CA's token tool (it needs the PUK / SO PIN)"
    )
    assert_refused(token, sign(token, *args), locked)


def test_a_locked_pin_reported_only_by_the_login_is_named(token, locking_module):
    token.extra_env = {
        "LOCKING_TOKEN_STATE": str(token.directory / "pin-tries"),
        "LOCKING_TOKEN_TRIES": "2",
        "LOCKING_TOKEN_HIDE_FLAGS": "1",  # as tokens that keep their retry counter to themselves
    }
    args = token.token_args("rsa", module=locking_module)
    for _ in range(2):
        assert_refused(
            token, sign(token, *args, env={"TOKEN_PIN": "000000"}), "wrong PIN for token 'csg-test'"
        )

    result = sign(token, *args)  # the right PIN, too late

    assert_refused(
        token,
        result,
        "the PIN of token 'csg-test' is locked after too many wrong tries; "
        "unlock it with your CA's token tool (it needs the PUK / SO PIN)",
    )


def test_no_token(empty_store):
    result = sign(empty_store, "--pkcs11-module", str(empty_store.module), "--pin-env", "TOKEN_PIN")

    assert_refused(
        empty_store, result, "no token found: plug the token in, or check the --pkcs11-module path"
    )


def test_no_token_with_that_label(token):
    result = sign(
        token, "--pkcs11-module", str(token.module), "--token-label", "VNPT-CA", "--pin-env", "TOKEN_PIN"
    )

    assert_refused(token, result, "no token labelled 'VNPT-CA' (present: 'csg-test')")


def test_no_key_with_that_label(token):
    result = sign(token, *token.token_args("chu-ky-cong-ty"))

    assert_refused(token, result, "no key labelled 'chu-ky-cong-ty' on token 'csg-test' (keys: 'ec', 'rsa')")


def test_several_keys_and_no_label(token):
    result = sign(token, "--pkcs11-module", str(token.module), "--pin-env", "TOKEN_PIN")

    assert_refused(
        token, result, "several keys on token 'csg-test'; choose one with --key-label: 'ec', 'rsa'"
    )


def test_a_module_path_that_is_no_library(token):
    (token.directory / "driver.so").write_text("Cài đặt trình điều khiển token của nhà cung cấp.\n" * 4)

    result = sign(token, "--pkcs11-module", "driver.so", "--pin-env", "TOKEN_PIN")

    assert_refused(token, result, "driver.so is not a PKCS#11 module (invalid ELF header)")


def test_a_module_path_where_there_is_nothing(token):
    result = sign(token, "--pkcs11-module", "/nonexistent/libvnpt-ca.so", "--pin-env", "TOKEN_PIN")

    assert_refused(
        token,
        result,
        "/nonexistent/libvnpt-ca.so is not a PKCS#11 module "
        "(cannot open shared object file: No such file or directory)",
    )


def test_a_shared_library_that_is_not_a_pkcs11_module(token):
    library = _ctypes.__file__  # a shared library, without the C_GetFunctionList of PKCS#11

    result = sign(token, "--pkcs11-module", library, "--pin-env", "TOKEN_PIN")

    assert_refused(token, result, f"{library} is not a PKCS#11 module (undefined symbol: C_GetFunctionList)")


def test_an_expired_certificate(token, pki):
    long_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=400)
    expired = pki.signer(
        key="p256", slot=73, not_before=long_ago, not_after=long_ago + datetime.timedelta(days=365)
    )
    token.put("expired", expired, "03")

    result = sign(token, *token.token_args("expired"))

    assert_refused(
        token,
        result,
        f"the certificate {expired.certificate.subject.rfc4514_string()} expired on "
        f"{expired.certificate.not_valid_after_utc:%Y-%m-%d}; sign with its renewal",
    )


def test_a_p12_with_the_wrong_passphrase(token, pki):
    write_p12(token.directory / "company.p12", pki.signer(key="p256", slot=72))

    result = sign(token, "--pkcs12", "company.p12", "--pin-env", "P12", env={"P12": P12_PASSPHRASE + "x"})

    assert_refused(
        token, result, "cannot open company.p12: wrong passphrase, or not a PKCS#12 (.p12/.pfx) file"
    )


def test_a_pin_variable_that_is_not_set(token):
    result = sign(
        token, "--pkcs11-module", str(token.module), "--key-label", "ec", "--pin-env", "NO_SUCH_PIN"
    )

    assert_refused(token, result, "the environment variable NO_SUCH_PIN (--pin-env) is not set")
