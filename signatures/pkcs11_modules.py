"""Where the licensed CAs' token drivers usually put their PKCS#11 library, for ``csg-sign
--pkcs11-module``. The binding and signing pages show it (as docs/signing.md does) as names to
look for, never as a promise: they change between token models and driver versions."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

FROM_THE_CA = _("the CA's Linux driver, if it offers one")

# (CA or token family, Windows library names (usually in C:\Windows\System32), Linux)
PKCS11_MODULES = [
    ("VNPT-CA", ["vnpt-ca_csp11.dll", "vnptca_p11_v8.dll"], FROM_THE_CA),
    ("Viettel-CA", ["viettel-ca_v6.dll", "viettel-ca_v5.dll", "viettel-ca.dll"], FROM_THE_CA),
    ("BkavCA", ["BkavCA.dll"], FROM_THE_CA),
    ("FPT-CA", ["fpt-ca.dll"], FROM_THE_CA),
    ("CA2", ["CA2_csp11.dll"], FROM_THE_CA),
    ("SafeNet eToken", ["eTPKCS11.dll"], "/usr/lib/libeTPkcs11.so"),
    (
        "OpenSC",
        [r"C:\Program Files\OpenSC Project\OpenSC\pkcs11\opensc-pkcs11.dll"],
        "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
    ),
]
