"""The drill report: each step's times and API calls as moto counted them, in three formats."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from deployer.drill_report import DrillReport


def test_steps_count_their_own_calls_and_the_report_is_written_three_ways(
    clients: Any, tmp_path: Path
) -> None:
    out = io.StringIO()
    report = DrillReport(
        "failover", True, "primary", "secondary", {"primary": "us-east-1", "secondary": "eu-west-1"}
    )
    sqs = clients("sqs", "eu-west-1")
    with report.step("make", "Make a queue", clients.counter, out) as step:
        sqs.create_queue(QueueName="drill")
        step.detail = "one queue"
    with report.step("look", "Look at it", clients.counter, out):
        sqs.list_queues()
        sqs.get_queue_url(QueueName="drill")
    with pytest.raises(RuntimeError), report.step("fail", "Fail", clients.counter, out):
        raise RuntimeError("boom")
    report.rto_seconds = 1.5
    report.dynamodb_replication_lag_seconds = 0.25
    report.check("plan after failover", True, "0 changes")
    report.result = "ok"
    written = report.write(tmp_path / "drill.json")
    assert [p.name for p in written] == ["drill.json", "drill.md", "drill.svg"]

    doc = json.loads(written[0].read_text())
    steps = {s["name"]: s for s in doc["steps"]}
    assert steps["make"]["api_calls"]["by_operation"] == {"sqs:CreateQueue": 1}
    assert (steps["make"]["api_calls"]["write"], steps["make"]["api_calls"]["read"]) == (1, 0)
    assert steps["look"]["api_calls"]["read"] == 2 and steps["look"]["api_calls"]["write"] == 0
    assert steps["fail"]["outcome"] == "failed"
    assert all(s["seconds"] >= 0 for s in doc["steps"])
    assert doc["rto_seconds"] == 1.5 and doc["rpo"]["rds_replica_lag_seconds"] is None
    assert doc["from"] == {"workspace": "primary", "region": "us-east-1"}
    markdown = written[1].read_text()
    assert "| RTO" in markdown and "1.500 s" in markdown and "Make a queue" in markdown
    assert "| RPO: RDS replica lag at promotion | not measured |" in markdown
    svg = ET.fromstring(written[2].read_text())
    assert len([e for e in svg if e.tag.endswith("rect")]) == 3
    assert "==> Make a queue" in out.getvalue() and "one queue" in out.getvalue()
