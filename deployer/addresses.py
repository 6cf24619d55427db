"""Resource addresses on the command line: `aws_vpc.main`, or `secondary:aws_vpc.main`.

One spec makes two workspaces with the same addresses, so an address names a resource only
with its workspace. The form is the one `deployer state list` prints, `WORKSPACE:TYPE.NAME`
(the graph's own node keys); a bare `TYPE.NAME` takes the workspace from `--region`, else from
where the address exists (a command that acts on one resource refuses an address found in both
workspaces, naming the two forms). Checked before any AWS call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from deployer.aws import DeployerError
from deployer.model import WORKSPACES
from deployer.spec import Spec

_ADDRESS = re.compile(r"(?:(?P<workspace>[A-Za-z0-9_-]+):)?(?P<address>[a-z0-9_]+\.[A-Za-z0-9_-]+)")


class AddressError(DeployerError):
    pass


def parse_address(text: str, spec: Spec, region: str | None) -> tuple[str | None, str]:
    """(workspace, TYPE.NAME) of `text`; the workspace is None when neither the address nor
    `--region` says it. A prefix that contradicts `--region` is refused."""
    match = _ADDRESS.fullmatch(text.strip())
    if match is None:
        raise AddressError(
            f"{text!r} is not a resource address: write TYPE.NAME (aws_vpc.main), with its "
            "workspace in front where it matters (secondary:aws_vpc.main); data sources, "
            "modules and indexes are not resources the deployer records"
        )
    workspace, address = match.group("workspace"), match.group("address")
    if workspace is not None and workspace not in WORKSPACES:
        raise AddressError(
            f"{text}: {workspace!r} is not a workspace (they are {' and '.join(WORKSPACES)})"
        )
    if region is not None:
        chosen = spec.workspace_for(region)
        if workspace is not None and workspace != chosen:
            raise AddressError(
                f"{text} names the {workspace} workspace but --region {region} the {chosen} one"
            )
        workspace = chosen
    return workspace, address


def one_address(
    text: str,
    spec: Spec,
    region: str | None,
    exists: Callable[[str, str], bool],
    where: str,
    workspaces: Sequence[str] = WORKSPACES,
) -> tuple[str, str]:
    """The one (workspace, address) `text` names, where `exists(workspace, address)` holds
    (`where` says where it was looked for, for the messages)."""
    workspace, address = parse_address(text, spec, region)
    candidates = [workspace] if workspace is not None else list(workspaces)
    found = [ws for ws in candidates if exists(ws, address)]
    if not found:
        place = f"the {workspace} workspace's" if workspace else "any workspace's"
        raise AddressError(f"{text}: no such resource in {place} {where}")
    if len(found) > 1:
        raise AddressError(
            f"{address} is in both workspaces' {where}: say which, "
            + " or ".join(f"{ws}:{address}" for ws in found)
            + " (or --region)"
        )
    return found[0], address
