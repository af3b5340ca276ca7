"""``csg-sign``: the command line. Every failure is one line on stderr and exit status 2.

A PIN, a passphrase and the API key never come from the command line, where other users of the
machine and the shell's history would see them: the API key from ``CSG_API_KEY``, a PIN from the
variable ``--pin-env`` names, or else typed at the terminal.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import getpass
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urljoin

from cryptography import x509
from pkcs11.exceptions import PKCS11Error

from csg_sign import certificates, cms, tokens
from csg_sign.api import Api, ApiRefusal
from csg_sign.errors import ToolError

API_KEY_VARIABLE = "CSG_API_KEY"


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    try:
        arguments.run(arguments)
    except ToolError as error:
        print(f"csg-sign: error: {error.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("csg-sign: interrupted", file=sys.stderr)
        return 130
    except PKCS11Error as error:
        # What no check above foresaw (a token pulled out mid-signature, a driver's own failure):
        # still one line, named by the PKCS#11 return value python-pkcs11 raises it for.
        print(f"csg-sign: error: the token or its driver failed ({type(error).__name__})", file=sys.stderr)
        return 2
    return 0


def _parser() -> argparse.ArgumentParser:
    # No abbreviations: "--pin 1234" must be refused, not taken for "--pin-env".
    parser = argparse.ArgumentParser(
        prog="csg-sign",
        allow_abbrev=False,
        description="Sign customs declarations and certificate challenges with a token (PKCS#11) "
        "or a .p12 file. Manual: docs/signing.md.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    listing = commands.add_parser("list", allow_abbrev=False, help="the tokens and the certificates on them")
    listing.add_argument("--pkcs11-module", required=True, metavar="LIB", help="the CA's PKCS#11 library")
    listing.add_argument("--pin-env", metavar="VAR", help="log in with the PIN in this variable")
    listing.set_defaults(run=_list)

    sign = commands.add_parser(
        "sign", allow_abbrev=False, help="a detached CMS signature over FILE's exact bytes"
    )
    sign.add_argument("file", type=Path, metavar="FILE")
    sign.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.p7s")
    sign.add_argument("--base64", action="store_true", help="write base64 (for the API) instead of DER")
    _source_options(sign)
    sign.set_defaults(run=_sign)

    prove = commands.add_parser(
        "prove", allow_abbrev=False, help="bind a certificate: sign its challenge and send the proof"
    )
    prove.add_argument("certificate_id", type=int, metavar="CERTIFICATE_ID")
    _api_option(prove)
    _source_options(prove)
    prove.set_defaults(run=_prove)

    filing = commands.add_parser("file", allow_abbrev=False, help="sign and file a declaration")
    filing.add_argument("document", type=Path, metavar="DOCUMENT")
    filing.add_argument("--number", required=True, help="the declaration's number")
    filing.add_argument("--kind", required=True, help="import, export or transit")
    filing.add_argument("--trader", required=True, metavar="TAX_CODE", help="the trader's tax code")
    filing.add_argument("--representation", choices=["direct", "indirect"], help="a broker's representation")
    _api_option(filing)
    _source_options(filing)
    filing.set_defaults(run=_file)
    return parser


def _source_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--pkcs11-module", metavar="LIB", help="the CA's PKCS#11 library (a token)")
    source.add_argument("--pkcs12", type=Path, metavar="FILE.p12", help="a .p12/.pfx file")
    parser.add_argument("--token-label", metavar="L", help="the token's label (csg-sign list shows it)")
    parser.add_argument("--key-label", metavar="K", help="the key's label, when the token holds several")
    parser.add_argument("--pin-env", metavar="VAR", help="read the PIN or passphrase from this variable")


def _api_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api", required=True, metavar="URL", help="the site, e.g. https://csg.example.vn")


# --- secrets ---------------------------------------------------------------------------------------


def _secret_reader(variable: str | None) -> Callable[[str], str]:
    def read(prompt: str) -> str:
        if variable is not None:
            value = os.environ.get(variable)
            if not value:
                raise ToolError(f"the environment variable {variable} (--pin-env) is not set")
            return value
        try:
            return getpass.getpass(prompt)
        except EOFError:
            raise ToolError("no PIN was typed") from None

    return read


def _api(arguments) -> Api:
    key = os.environ.get(API_KEY_VARIABLE, "").strip()
    if not key:
        raise ToolError(f"set {API_KEY_VARIABLE} to your API key (the portal's API keys page makes one)")
    return Api(arguments.api, key)


# --- where the key is --------------------------------------------------------------------------------


@contextlib.contextmanager
def _signing_key(arguments, prefer=None) -> Iterator[tuple[object, x509.Certificate]]:
    """The signer and its certificate, from the token or the .p12 the arguments name. A token's
    session stays open while the caller signs."""
    ask = _secret_reader(arguments.pin_env)
    if arguments.pkcs12 is not None:
        yield cms.pkcs12_signer(arguments.pkcs12, ask(f"Passphrase for {arguments.pkcs12}: "))
        return
    module = tokens.load_module(arguments.pkcs11_module)
    token = tokens.find_token(module, arguments.token_label)
    with tokens.open_session(token, ask) as session:
        key = tokens.signing_key(session, token.label, arguments.key_label, prefer)
        yield cms.token_signer(session, key), key.certificate


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ToolError(f"cannot read {path}: {error.strerror}") from None


# --- commands ----------------------------------------------------------------------------------------


def _list(arguments) -> None:
    module = tokens.load_module(arguments.pkcs11_module)
    found = tokens.tokens(module)
    if not found:
        raise ToolError("no token found: plug the token in, or check the --pkcs11-module path")
    for token in found:
        print(f"token '{token.label}' (serial {token.serial.decode(errors='replace').strip()})")
        if arguments.pin_env is None:
            session = token.open()
        else:
            session = tokens.open_session(token, _secret_reader(arguments.pin_env))
        with session:
            keys = {key_id for _, key_id in tokens.private_keys(session)} if arguments.pin_env else None
            on_token = tokens.certificates(session)
        if not on_token:
            print("  no certificates")
        for item in on_token:
            about = certificates.summary(item.certificate)
            print(f"  certificate '{item.label}' id {item.id.hex() or '-'}")
            print(f"    subject   {about.subject}")
            print(f"    tax code  {about.tax_code or '(none: no UID=MST:)'}")
            print(f"    issuer    {about.issuer}")
            print(f"    valid     {about.not_before:%Y-%m-%d %H:%M} to {about.not_after:%Y-%m-%d %H:%M} UTC")
            print(f"    sha-256   {about.fingerprint}")
            if keys is not None:
                print(f"    key       {'on the token' if item.id in keys else 'none beside it'}")


def _sign(arguments) -> None:
    data = _read(arguments.file)
    with _signing_key(arguments) as (signer, certificate):
        certificates.require_valid(certificate)
        signature = cms.sign_detached(signer, data)
    output = base64.b64encode(signature) + b"\n" if arguments.base64 else signature
    try:
        arguments.output.write_bytes(output)
    except OSError as error:
        raise ToolError(f"cannot write {arguments.output}: {error.strerror}") from None
    print(f"signed {arguments.file} with {certificate.subject.rfc4514_string()} -> {arguments.output}")


def _prove(arguments) -> None:
    api = _api(arguments)
    pending = api.certificate(arguments.certificate_id)
    challenge = pending.get("challenge")
    if not challenge:
        raise ToolError(
            f"certificate {arguments.certificate_id} is not waiting for a proof (status "
            f"{pending.get('status')}); upload it again for a new challenge"
        )
    wanted = pending.get("fingerprint_sha256")
    with _signing_key(arguments, prefer=lambda cert: certificates.fingerprint(cert) == wanted) as (
        signer,
        certificate,
    ):
        if certificates.fingerprint(certificate) != wanted:
            raise ToolError(
                f"the key chosen signs for {certificate.subject.rfc4514_string()}, not for certificate "
                f"{arguments.certificate_id} ({pending.get('subject')}); choose its key with --key-label"
            )
        certificates.require_valid(certificate)
        proof = cms.sign_detached(signer, challenge.encode("ascii"))
    bound = api.prove(arguments.certificate_id, proof)
    print(f"certificate {bound['id']} is {bound['status']}: {bound['subject']}")


def _filer_tax_code(api: Api) -> str | None:
    """The tax code of the enterprise the API key files for. A key without the ``read`` scope may
    not ask; the server then makes the same check itself (``certificate_foreign_use``)."""
    try:
        me = api.me()
    except ApiRefusal as refusal:
        if refusal.status == 403:
            return None
        raise
    return (me.get("organization") or {}).get("tax_code")


def _file(arguments) -> None:
    api = _api(arguments)
    document = _read(arguments.document)
    filer = _filer_tax_code(api)
    with _signing_key(arguments, prefer=lambda cert: certificates.tax_code(cert) == filer) as (
        signer,
        certificate,
    ):
        certificates.require_valid(certificate)
        if filer is not None:
            certificates.require_tax_code(certificate, filer)
        signature = cms.sign_detached(signer, document)
    declaration = {"number": arguments.number, "kind": arguments.kind, "trader_tax_code": arguments.trader}
    if arguments.representation:
        declaration["representation"] = arguments.representation
    filed = api.file_declaration(declaration, document, signature)
    record = filed.get("signature") or {}
    print(f"{record.get('outcome', 'accepted')}: declaration {filed['id']} ({filed['number']})")
    print(f"receipt: {urljoin(api.base + '/', filed['receipt'])}")
