"""``csg-sign``: sign declarations and binding challenges with a USB token (PKCS#11) or a ``.p12``.

A broker or a trader installs and runs it on its own: it imports no Django and no app of the
project, only ``pyHanko`` (CMS through its ``Signer`` classes), ``python-pkcs11``, ``cryptography``
and ``python-stdnum``. docs/signing.md is its manual.
"""
