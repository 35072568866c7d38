"""The type stubs describe the same boto3 release: boto3-stubs and its Amplify part."""

from __future__ import annotations

import re

from support.action import ROOT


def test_the_boto3_stubs_are_pinned_at_one_version():
    text = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    pins = dict(re.findall(r"^(boto3-stubs|mypy-boto3-amplify)==(\S+)", text, re.MULTILINE))
    assert len(pins) == 2
    assert pins["boto3-stubs"] == pins["mypy-boto3-amplify"]
