"""SSM, CloudFormation and STS for every run that deploys: one moto server per test
process, started on first use, with the account bootstrapped for the CDK.

Why: before installing, every deploy reads the CDK bootstrap version (SSM), the
branch's stack (CloudFormation) and the backend's secrets (SSM)
(ampaction/backend_checks.py). A run whose boto3 had nowhere to send those calls
would fail (or reach for real AWS). Tests that set up a state of their own (a
stack mid-update, a missing secret, no bootstrap) start their own server
(`support.cloudformation_server`) and point the run at it instead.

Why a process of its own: moto keeps its state per process, and those tests'
in-process servers reset it. Why shared: a server per test would cost every test
that deploys about a second. Runs only read it (no test's run writes to it but
through its own server), so what one test does cannot reach another.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
from typing import Any

import boto3

REGION = "us-east-1"
BOOTSTRAPPED_REGIONS = (REGION, "eu-west-1")  # eu-west-1: examples/monorepo.yml
CREDENTIALS = {"aws_access_key_id": "AKIDTEST", "aws_secret_access_key": "secret"}
BOOTSTRAP_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
BOOTSTRAP_VERSION = "21"  # a current bootstrap template's version (6 or later passes)
SERVICES = ("SSM", "CLOUDFORMATION", "STS")

_SCRIPT = """
import sys
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
server = ThreadedMotoServer("127.0.0.1", 0, verbose=False)
server.start()
print("http://%s:%s" % server.get_host_and_port(), flush=True)
sys.stdin.read()  # until the test process ends (its end closes the pipe)
server.stop()
"""

_lock = threading.Lock()
_url: str | None = None


def shared_url() -> str:
    """The shared server's URL (started, and bootstrapped, on the first call)."""
    global _url
    with _lock:
        if _url is None:
            env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE")}
            child = subprocess.Popen(
                [sys.executable, "-c", _SCRIPT],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
                text=True,
            )
            assert child.stdout is not None
            url = child.stdout.readline().strip()
            assert url.startswith("http://"), "the shared moto server did not start"
            atexit.register(_stop, child)
            bootstrap(url)
            _url = url
        return _url


def endpoints(url: str | None = None) -> dict[str, str]:
    """The environment that sends a run's SSM, CloudFormation and STS calls to `url`
    (default: the shared, bootstrapped server)."""
    target = url or shared_url()
    return {f"AWS_ENDPOINT_URL_{service}": target for service in SERVICES}


def ssm_client(url: str, region: str = REGION) -> Any:
    return boto3.client("ssm", endpoint_url=url, region_name=region, **CREDENTIALS)


def bootstrap(url: str, version: str = BOOTSTRAP_VERSION) -> None:
    """What `cdk bootstrap` leaves in SSM: the version parameter, in each region a
    test deploys to (SSM is regional, and the monorepo example deploys to eu-west-1)."""
    for region in BOOTSTRAPPED_REGIONS:
        ssm_client(url, region).put_parameter(
            Name=BOOTSTRAP_PARAMETER, Value=version, Type="String", Overwrite=True
        )


def _stop(child: subprocess.Popen[str]) -> None:
    if child.stdin:
        child.stdin.close()
    try:
        child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        child.kill()
