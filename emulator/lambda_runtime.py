"""Run a Lambda function's Python handler in this process, from its deployed zip, without docker.

moto runs a function's code only in a docker container (the Lambda runtime image). The emulator
runs API Gateway's Lambda proxy integrations (``emulator.dataplane``) and Route 53's health checks
through them, in CI and in the sandbox, where docker is not available: this module loads the
function's handler module from the zip moto stored (``LambdaFunction.code_bytes``) and calls it
as Lambda's Python runtime would, with:

- the function's environment variables and Lambda's reserved runtime variables (Lambda Developer
  Guide, "Defined runtime environment variables": ``AWS_REGION``, ``AWS_DEFAULT_REGION``,
  ``AWS_LAMBDA_FUNCTION_NAME``, ``AWS_LAMBDA_FUNCTION_MEMORY_SIZE``,
  ``AWS_LAMBDA_FUNCTION_VERSION``, ``_HANDLER``, ``LAMBDA_TASK_ROOT``, and credentials), so that
  boto3 in the handler talks to the function's own region;
- in the server, ``AWS_ENDPOINT_URL`` pointing at the server itself (``set_self_endpoint``), so
  that the handler's boto3 calls reach the emulator; in-process under ``mock_aws`` nothing is
  needed (moto intercepts botocore in the whole process);
- a context object with the attributes the Python runtime's context has (Lambda Developer Guide,
  "Using the Lambda context object to retrieve Python function information").

Each invocation is a cold start: the handler's module is loaded anew from a fresh copy of the zip
and dropped afterwards, so no state leaks between invocations or functions. Invocations are
serialised by a process-wide lock, because the environment variables are the process's. The
function's timeout and memory size are not enforced.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import sys
import tempfile
import threading
import uuid
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

# Set by the server to its own URL: the handler's boto3 calls then come back to the emulator.
_self_endpoint: str | None = None
_invoke_lock = threading.RLock()

# The credentials a function gets when the process has none (the server's own environment):
# moto's placeholder values, which it maps to its default account. Not a secret.
PLACEHOLDER_CREDENTIALS: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class FunctionError(Exception):
    """The function could not run or its handler raised (Lambda's ``Unhandled`` error)."""


def set_self_endpoint(url: str | None) -> None:
    """The emulator's own URL, given to handlers as ``AWS_ENDPOINT_URL``; None in-process."""
    global _self_endpoint
    _self_endpoint = url


def self_endpoint() -> str | None:
    return _self_endpoint


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that handlers read."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    timeout_s: int

    def get_remaining_time_in_millis(self) -> int:
        """The whole timeout: the emulator does not enforce it."""
        return self.timeout_s * 1000


def runtime_environment(function: Any) -> dict[str, str]:
    """The environment the function's handler runs with: Lambda's reserved variables, the
    function's own variables, and (in the server) the emulator's endpoint."""
    environment = {
        "AWS_REGION": function.region,
        "AWS_DEFAULT_REGION": function.region,
        "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.run_time}",
        "_HANDLER": str(function.handler),
        **{k: str(v) for k, v in (function.environment_vars or {}).items()},
    }
    for name, value in PLACEHOLDER_CREDENTIALS.items():
        environment[name] = os.environ.get(name) or value
    if _self_endpoint:
        environment["AWS_ENDPOINT_URL"] = _self_endpoint
    return environment


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _task_root(code: bytes) -> Iterator[Path]:
    """The zip unpacked in a directory of its own, on ``sys.path`` (the handler's siblings
    import as in Lambda's ``/var/task``); modules loaded from it are forgotten afterwards."""
    with tempfile.TemporaryDirectory(prefix="emulated-lambda-") as directory:
        root = Path(directory)
        try:
            with zipfile.ZipFile(io.BytesIO(code)) as archive:
                archive.extractall(root)
        except zipfile.BadZipFile as exc:
            raise FunctionError("the function's code is not a zip archive") from exc
        sys.path.insert(0, directory)
        before = set(sys.modules)
        try:
            yield root
        finally:
            sys.path.remove(directory)
            for name in set(sys.modules) - before:
                module_file = getattr(sys.modules[name], "__file__", None) or ""
                if module_file.startswith(directory):
                    del sys.modules[name]


def _load_handler(root: Path, handler: str) -> Any:
    module_path, _, attribute = handler.rpartition(".")
    if not module_path or not attribute:
        raise FunctionError(f"bad handler {handler!r}: expected module.function")
    source = root.joinpath(*module_path.split(".")).with_suffix(".py")
    if not source.is_file():
        raise FunctionError(f"Unable to import module '{module_path}': no {source.name}")
    name = f"_emulated_lambda_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, source)
    if spec is None or spec.loader is None:
        raise FunctionError(f"Unable to import module '{module_path}'")
    module: ModuleType = importlib.util.module_from_spec(spec)
    # Registered while it runs (dataclasses and pickling look a class's module up by name).
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise FunctionError(f"Unable to import module '{module_path}': {exc!r}") from exc
    entry = getattr(module, attribute, None)
    if not callable(entry):
        raise FunctionError(f"Handler '{attribute}' missing on module '{module_path}'")
    return entry


def invoke(function: Any, event: Any) -> Any:
    """Run ``function``'s handler on ``event`` and return what it returns.

    ``function`` is moto's ``LambdaFunction``. Raises ``FunctionError`` when the function is not
    a Python zip function, its module does not load, or its handler raises.
    """
    runtime = str(function.run_time or "")
    if not runtime.startswith("python"):
        raise FunctionError(f"runtime {runtime or 'none'} is not run by the emulator")
    request_id = str(uuid.uuid4())
    context = LambdaContext(
        function_name=function.function_name,
        function_version="$LATEST",
        invoked_function_arn=function.function_arn,
        memory_limit_in_mb=int(function.memory_size),
        aws_request_id=request_id,
        log_group_name=f"/aws/lambda/{function.function_name}",
        log_stream_name=f"emulated/[$LATEST]{request_id.replace('-', '')}",
        timeout_s=int(function.timeout),
    )
    with (
        _invoke_lock,
        _environment(runtime_environment(function)),
        _task_root(function.code_bytes) as root,
    ):
        os.environ["LAMBDA_TASK_ROOT"] = str(root)
        try:
            entry = _load_handler(root, str(function.handler))
            try:
                return entry(event, context)
            except Exception as exc:
                raise FunctionError(f"{type(exc).__name__} in the handler") from exc
        finally:
            os.environ.pop("LAMBDA_TASK_ROOT", None)
