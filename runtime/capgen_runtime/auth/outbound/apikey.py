"""An API key in a header, the query, a cookie or a field of the body (or the path, where
the generator already wrote it into the operation's path)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final, Literal
from urllib.parse import quote_plus

import httpx

from ...errors import InvalidRequest
from ...expr.templating import render
from ...jsontext import compact
from ...model import Auth
from ...upstream.request import PreparedRequest, encode_path_value, header_value
from .scheme import OutboundScheme, Plain


class ApiKeySigner(Plain):
    async def apply(
        self, request: PreparedRequest, params: Mapping[str, Any], http: httpx.AsyncClient
    ) -> None:
        for key, value in ((self.auth.key, self.auth.value), *self.auth.more):  # DEV-27: each
            self._place(request, self.text(key, params), self.text(value, params))

    def _place(self, request: PreparedRequest, key: str, value: str) -> None:
        placement = self.auth.placement
        if not key or not value or placement == "path":
            return
        if placement == "body":
            _add_body_field(request, key, value)
        elif placement == "query":
            separator = "&" if "?" in request.url else "?"
            request.url += f"{separator}{quote_plus(key)}={quote_plus(value)}"
        elif placement == "cookie":
            request.cookies[key] = header_value(key, value)
        else:
            request.headers[key] = header_value(key, value)


def _add_body_field(request: PreparedRequest, key: str, value: str) -> None:
    """An API key sent as a field of the body: of the form, of the JSON object, or as the only
    field of a form body when there is none."""
    if request.form is not None:
        request.form[key] = value
    elif not request.content:
        request.form = {key: value}
        request.headers.pop("Content-Type", None)  # httpx writes the form's
    elif "json" in request.headers.get("Content-Type", ""):
        data = json.loads(request.content)
        if not isinstance(data, dict):
            raise InvalidRequest("the API key goes in the body, which is not a JSON object")
        data[key] = value
        request.content = compact(data).encode()
    else:
        raise InvalidRequest("the API key goes in the body, which is neither JSON nor a form")


def path_credential(auth: Auth | None, bind_scope: Mapping[str, Any]) -> dict[str, str]:
    """An API key placed in the path (a bot token), as the path segment of the placeholder its
    key names: `{token: "123%3Aabc"}`; empty for other credentials or an unbound key."""
    if auth is None or auth.kind != "apikey" or auth.placement != "path" or not auth.key:
        return {}
    value = render(auth.value or "", bind_scope)
    if not value or "{{" in value:
        return {}
    return {auth.key: encode_path_value(auth.key, value)}


SCHEME: Final[OutboundScheme[Literal["apikey"]]] = OutboundScheme("apikey", ApiKeySigner)
