"""STS: the caller's identity (`data.aws_caller_identity`)."""

from __future__ import annotations

from typing import Any

from deployer.resource import Context, DataSource, data_source


@data_source
class CallerIdentity(DataSource):
    type = "aws_caller_identity"

    def read(self, ctx: Context, desired: dict[str, Any]) -> dict[str, Any] | None:
        who = ctx.client("sts").get_caller_identity()
        return {
            "id": who["Account"],
            "account_id": who["Account"],
            "arn": who["Arn"],
            "user_id": who["UserId"],
        }
