"""The few calls ``csg-sign`` makes to the broker API (docs/api.md), with the standard library."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
import uuid

from csg_sign.errors import ToolError

TIMEOUT_SECONDS = 60


class ApiRefusal(ToolError):
    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class Api:
    def __init__(self, base_url: str, key: str):
        base = base_url.rstrip("/")
        # Either the site's address or the API's own; both are what users copy from the portal.
        self.base = base if base.endswith("/api/v1") else base + "/api/v1"
        if not self.base.startswith(("https://", "http://")):
            raise ToolError(f"--api must be an http(s) address, not {base_url}")
        self.key = key

    def me(self) -> dict:
        return self._call("GET", "/me")

    def certificate(self, certificate_id: int) -> dict:
        for certificate in self._call("GET", "/certificates/"):
            if certificate.get("id") == certificate_id:
                return certificate
        raise ToolError(f"no certificate {certificate_id} in your enterprise (see the portal's Certificates)")

    def prove(self, certificate_id: int, proof: bytes) -> dict:
        body = {"signature": base64.b64encode(proof).decode()}
        return self._call("POST", f"/certificates/{certificate_id}/proof", body)

    def file_declaration(self, declaration: dict, document: bytes, signature: bytes) -> dict:
        body = declaration | {
            "document": base64.b64encode(document).decode(),
            "signature": base64.b64encode(signature).decode(),
        }
        # One key per run: a retry after a lost answer files nothing twice.
        return self._call("POST", "/declarations/", body, {"Idempotency-Key": str(uuid.uuid4())})

    def _call(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        request = urllib.request.Request(  # noqa: S310 (the scheme is http(s): see __init__)
            self.base + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={
                "Authorization": f"Api-Key {self.key}",
                "Accept": "application/json",
                "Content-Type": "application/json",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise ApiRefusal(_refusal(error), error.code) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ToolError(f"cannot reach {self.base}: {reason}") from None
        except ValueError:
            raise ToolError(f"{self.base} did not answer with JSON; check the --api address") from None


def _refusal(error: urllib.error.HTTPError) -> str:
    try:
        answer = json.loads(error.read())
        code, detail = answer["code"], answer["detail"]
    except (ValueError, KeyError, TypeError):
        return f"the server answered HTTP {error.code} {error.reason}"
    fields = answer.get("fields") or {}
    # A refused filing names its signature record; a refused field says which.
    extra = f" ({json.dumps(fields, ensure_ascii=False, sort_keys=True)})" if fields else ""
    return f"the server refused (HTTP {error.code}): {code}: {detail}{extra}"
