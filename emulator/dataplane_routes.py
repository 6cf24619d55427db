"""Where the data plane (``emulator.dataplane``) is reached: in-process and in the server.

- In-process under ``mock_aws``: moto intercepts ``requests`` calls to
  ``https://{api_id}.execute-api.{region}.amazonaws.com/{stage}/...`` through the callbacks its
  ``RestAPI.update_integration_mocks`` registers on every deployment and stage, one per literal
  resource path. ``DATAPLANE_EXTENSIONS`` replace them by one callback per HTTP method for every
  stage URL (any path, any API), which answers through ``invoke_stage``; an integration other
  than ``AWS_PROXY`` still goes to moto's own integration parsers.
- In the server (``DataPlaneMiddleware`` around moto's WSGI application): a request whose
  ``Host`` is ``{api_id}.execute-api.{region}.amazonaws.com`` (as a client that resolves the name
  to the emulator sends it), or the path-style form
  ``http://HOST:PORT/restapis/{api_id}/{stage}/_user_request_/{path}`` (LocalStack's form for
  the same thing: moto's server has none), which finds the API's region from its id.
  ``@connections`` requests (API Gateway Management API) still go to moto. A request whose
  ``Host`` is a custom domain that Route 53 sends to a region's API (``emulator.custom_domains``)
  goes to the stage its base path mapping names.
- In-process through urllib (which moto does not intercept): ``DataPlaneHandler`` in an opener,
  for stage URLs and custom domains alike.
"""

from __future__ import annotations

import email.message
import io
import re
import urllib.error
import urllib.request
import urllib.response
from collections.abc import Callable, Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from emulator.custom_domains import invoke_domain, may_be_custom, resolve
from emulator.dataplane import (
    LAMBDA_PROXY,
    NoSuchApi,
    StageRequest,
    StageResponse,
    find_api,
    find_api_region,
    invoke_stage,
    match_resource,
)
from emulator.patching import _patch

EXECUTE_API_HOST = re.compile(
    r"^(?P<api>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?::\d+)?$",
    re.IGNORECASE,
)
EXECUTE_API_URL = re.compile(
    r"^https?://(?P<api>[a-z0-9]+)\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com"
    r"/(?P<stage>[^/?#]+)(?P<path>/[^?#]*)?(?:\?.*)?$",
    re.IGNORECASE,
)
PATH_STYLE = re.compile(r"^/restapis/(?P<api>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
DEFAULT_ACCOUNT = "123456789012"
NO_SUCH_API_BODY = b'{"message": "no such REST API"}'


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


# --- in-process: moto's responses mock ---------------------------------------------------------


def _account() -> str:
    from moto.core import DEFAULT_ACCOUNT_ID

    return str(DEFAULT_ACCOUNT_ID)


def _body_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return bytes(body.read())


def _url_request(
    url: str, method: str, headers: Mapping[str, str], body: bytes, stage: str | None
) -> StageRequest:
    """The request to ``url``, its path taken after the ``stage`` segment (if any)."""
    split = urlsplit(url)
    prefix = f"/{stage}" if stage else ""
    return StageRequest(
        method=method.upper(),
        path=unquote(split.path[len(prefix) :] or "/"),
        headers={str(k): str(v) for k, v in headers.items()},
        query=parse_qsl(split.query, keep_blank_values=True),
        body=body,
    )


def _stage_callback(request: Any) -> tuple[int, dict[str, str], bytes]:
    """A ``requests`` call to a stage URL, answered by ``invoke_stage``."""
    match = EXECUTE_API_URL.match(str(request.url))
    if match is None:  # the registered pattern and this one are the same
        return 404, {}, NO_SUCH_API_BODY
    account = _account()
    stage_request = _url_request(
        str(request.url),
        str(request.method),
        request.headers,
        _body_bytes(request.body),
        match["stage"],
    )
    try:
        other = _other_integration(account, match["region"], match["api"], stage_request)
        if other is not None:
            status, body = other.get_response(request)
            return status, {}, _body_bytes(body)
        response = invoke_stage(
            account, match["region"], match["api"], match["stage"], stage_request
        )
    except NoSuchApi:
        # On AWS the name does not resolve; in-process there is no DNS to fail.
        return 404, {"Content-Type": "application/json"}, NO_SUCH_API_BODY
    return response.status, response.headers, response.body


def _other_integration(account: str, region: str, api_id: str, request: StageRequest) -> Any:
    """moto's resource when the method's integration is not a Lambda proxy (moto answers it)."""
    matched = match_resource(find_api(account, region, api_id), request.path)
    if matched is None:
        return None
    resource = matched[0]
    method = resource.resource_methods.get(request.method)
    integration = method.method_integration if method is not None else None
    if integration is None or integration.integration_type == LAMBDA_PROXY:
        return None
    return resource


def _register_stage_callbacks() -> None:
    import responses
    from moto.core.models import responses_mock

    if any(getattr(r, "callback", None) is _stage_callback for r in responses_mock.registered()):
        return
    for method in HTTP_METHODS:
        responses_mock.add(
            responses.CallbackResponse(
                method=method, url=EXECUTE_API_URL, callback=_stage_callback, content_type=None
            )
        )


def _stage_callbacks(_original: Any) -> Any:
    def update_integration_mocks(self: Any, stage_name: str) -> None:
        _register_stage_callbacks()

    return update_integration_mocks


def _install_stage_callbacks() -> None:
    from moto.apigateway.models import RestAPI

    _patch(RestAPI, "update_integration_mocks", "lambda-proxy", _stage_callbacks)


DATAPLANE_EXTENSIONS: tuple[Callable[[], None], ...] = (_install_stage_callbacks,)


class DataPlaneHandler(urllib.request.BaseHandler):
    """urllib's counterpart of the in-process callbacks, for code that probes a stage with urllib
    under ``mock_aws`` (moto intercepts only botocore and ``requests``):
    ``urllib.request.build_opener(DataPlaneHandler())`` answers execute-api URLs through
    ``invoke_stage`` and custom domains (the URL's host or a ``Host`` header) through
    ``emulator.custom_domains``, and leaves every other URL to the network."""

    handler_order = 100  # before urllib's own HTTP(S) handlers (500)

    def http_open(self, req: urllib.request.Request) -> Any:
        return self._answer(req)

    def https_open(self, req: urllib.request.Request) -> Any:
        return self._answer(req)

    def _answer(self, req: urllib.request.Request) -> Any:
        split = urlsplit(req.full_url)
        match = EXECUTE_API_URL.match(req.full_url)
        host = req.get_header("Host") or split.netloc
        resolved = None
        if match is None:
            resolved = resolve(_account(), host) if may_be_custom(host) else None
            if resolved is None:
                return None  # neither a stage nor a custom domain: the next handler
        request = _url_request(
            req.full_url,
            req.get_method(),
            dict(req.header_items()),
            req.data if isinstance(req.data, bytes) else b"",
            match["stage"] if match is not None else None,
        )
        try:
            if resolved is not None:
                response = invoke_domain(_account(), resolved, request)
            else:
                assert match is not None
                response = invoke_stage(
                    _account(), match["region"], match["api"], match["stage"], request
                )
        except NoSuchApi as exc:
            raise urllib.error.URLError(f"no such REST API {split.netloc}") from exc
        headers = email.message.Message()
        for name, value in response.headers.items():
            headers[name] = value
        answer = urllib.response.addinfourl(
            io.BytesIO(response.body), headers, req.full_url, response.status
        )
        answer.msg = _reason(response.status)  # type: ignore[attr-defined]  # HTTPError reads it
        return answer


# --- the server: WSGI ----------------------------------------------------------------------------

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _request_headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").title(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").title()] = str(environ[key])
    return headers


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return bytes(environ["wsgi.input"].read(length)) if length > 0 else b""


class DataPlaneMiddleware:
    """Serves stage requests (host-style or path-style) and passes the rest to moto."""

    def __init__(self, app: WsgiApp, account_id: str = DEFAULT_ACCOUNT) -> None:
        self.app = app
        self.account_id = account_id

    def _target(self, environ: dict[str, Any]) -> tuple[str | None, str, str, str] | None:
        """(region or None, api id, stage, path after the stage) when the request is a stage's."""
        path = str(environ.get("PATH_INFO") or "/")
        host = EXECUTE_API_HOST.match(str(environ.get("HTTP_HOST") or ""))
        if host is not None and not path.startswith("/@connections"):
            stage, _, rest = path.lstrip("/").partition("/")
            return host["region"], host["api"], stage, "/" + rest
        styled = PATH_STYLE.match(path)
        if styled is not None:
            return None, styled["api"], styled["stage"], styled["path"] or "/"
        return None

    def _request(self, environ: dict[str, Any], path: str) -> StageRequest:
        return StageRequest(
            method=str(environ.get("REQUEST_METHOD", "GET")).upper(),
            path=path,
            headers=_request_headers(environ),
            query=parse_qsl(str(environ.get("QUERY_STRING") or ""), keep_blank_values=True),
            body=_read_body(environ),
            source_ip=str(environ.get("REMOTE_ADDR") or "127.0.0.1"),
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        target = self._target(environ)
        host = str(environ.get("HTTP_HOST") or "")
        if target is None:
            resolved = resolve(self.account_id, host) if may_be_custom(host) else None
            if resolved is None:
                return self.app(environ, start_response)
            request = self._request(environ, str(environ.get("PATH_INFO") or "/"))
            try:
                response = invoke_domain(self.account_id, resolved, request)
            except NoSuchApi:
                response = StageResponse(
                    404, {"Content-Type": "application/json"}, NO_SUCH_API_BODY
                )
            return self._respond(request, response, start_response)
        region, api_id, stage, path = target
        request = self._request(environ, path)
        region = region or find_api_region(self.account_id, api_id)
        try:
            if region is None:
                raise NoSuchApi(api_id)
            response = invoke_stage(self.account_id, region, api_id, stage, request)
        except NoSuchApi:
            response = StageResponse(404, {"Content-Type": "application/json"}, NO_SUCH_API_BODY)
        return self._respond(request, response, start_response)

    @staticmethod
    def _respond(
        request: StageRequest, response: StageResponse, start_response: StartResponse
    ) -> Iterable[bytes]:
        reason = _reason(response.status)
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(response.body))))
        start_response(f"{response.status} {reason}".strip(), headers)
        return [b"" if request.method == "HEAD" else response.body]
