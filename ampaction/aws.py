"""What every AWS service the action calls shares: one botocore client per service, built
the same way, and AWS's errors translated into messages a user can act on.

botocore is imported on first use, so a run that never reaches AWS does not pay
for it; and botocore alone, not boto3: boto3's sessions import its S3 transfer
manager (s3transfer and multiprocessing: some 60 modules) for nothing the
action calls. Retries are stated here, not left to botocore's defaults (1.44 moved
from `legacy`, 5 attempts, to `standard`, 3): `max-attempts` attempts in
`standard` mode, which retries throttling (429 `LimitExceededException`,
CloudFormation's `Throttling`), 5xx and dropped connections, and never
400/401/403/404. A user's own `AWS_MAX_ATTEMPTS` / `AWS_RETRY_MODE` wins,
because an explicit `Config` would silently override them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from ampaction import __version__
from ampaction.cancellation import Cancellation
from ampaction.errors import ActionError

CONNECT_TIMEOUT = 10
READ_TIMEOUT = 30
# In the user agent that CloudTrail records, so that admins can tell our calls apart.
USER_AGENT = f"ampaction/{__version__}"

CREDENTIALS_HELP = (
    "Give the job AWS credentials before this step, e.g. with "
    "aws-actions/configure-aws-credentials and a role assumed by OIDC "
    "(`permissions: id-token: write`)."
)
_CREDENTIAL_CODES = {
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "MissingAuthenticationTokenException",
    "UnauthorizedException",
}
_PERMISSION_CODES = {"AccessDeniedException", "AccessDenied", "ForbiddenException"}
_THROTTLING_CODES = {"LimitExceededException", "Throttling", "ThrottlingException"}


class AwsError(ActionError):
    """An AWS call that failed; `code` is AWS's error code."""

    def __init__(self, message: str, code: str, *, title: str = "AWS call failed"):
        super().__init__(message, title=title)
        self.code = code


class AwsService:
    """One AWS service's client, and its calls translated into `AwsError`s.

    A subclass names the service (boto3's name), a title for its failures, and the
    permissions to suggest when AWS says one is missing.
    """

    service = ""
    failure_title = "AWS call failed"
    permissions_hint = ""

    def __init__(
        self,
        region: str,
        max_attempts: int,
        env: Mapping[str, str],
        mask: Callable[[str], None] = lambda _secret: None,
        cancellation: Cancellation | None = None,
    ):
        self.region = region
        self.max_attempts = max_attempts
        self._env = env
        # The resolved AWS credentials are secrets like the webhook URL: botocore's
        # debug log shows the access key id and the session token.
        self._mask = mask
        # Each call runs so that a cancellation ends it at once (botocore's own
        # retries of a throttled call can take minutes).
        self._cancellation = cancellation or Cancellation()
        self._client: Any = None
        # Two calls made at the same time (`Cancellation.start`) share one client.
        self._client_lock = threading.Lock()

    @property
    def client(self) -> Any:
        with self._client_lock:
            if self._client is None:
                self._client = self._new_client()
        return self._client

    def _new_client(self) -> Any:
        """A client of this service, as every call of the action's is made."""
        import botocore.session  # noqa: PLC0415 - only runs that reach AWS pay for the import
        from botocore.config import Config  # noqa: PLC0415

        retries: dict[str, Any] = {}
        if not ({"AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"} & self._env.keys()):
            retries = {"mode": "standard", "total_max_attempts": self.max_attempts}
        config = Config(
            retries=retries or None,  # type: ignore[arg-type]
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            user_agent_extra=USER_AGENT,
        )
        session = botocore.session.get_session()
        client = session.create_client(self.service, region_name=self.region, config=config)
        self._mask_credentials(session)  # before any request could log them
        # Credentials from a role are refreshed during a long wait: mask each new set.
        client.meta.events.register(
            f"before-sign.{client.meta.service_model.endpoint_prefix}",
            lambda **_: self._mask_credentials(session),
        )
        return client

    def _mask_credentials(self, session: Any) -> None:
        credentials = session.get_credentials()
        if credentials is None:
            return  # the first call says so, with CREDENTIALS_HELP
        frozen = credentials.get_frozen_credentials()
        for secret in (frozen.access_key, frozen.secret_key, frozen.token):
            if secret:
                self._mask(secret)

    def _call(
        self, operation: str, what: str, *, patience: float | None = None, **params: Any
    ) -> dict[str, Any]:
        """`operation`, its errors made ones a user can act on. A cancellation ends the
        wait at once; with `patience`, the call is a clean-up that still runs after a
        cancellation, given up after that many seconds (the runner's grace is 7.5 s)."""
        from botocore.exceptions import (  # noqa: PLC0415
            BotoCoreError,
            ClientError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        def call() -> dict[str, Any]:
            return getattr(self.client, operation)(**params)  # type: ignore[no-any-return]

        watch = self._cancellation
        if patience is not None:
            watch = Cancellation()
            timer = threading.Timer(patience, watch.event.set)
            timer.daemon = True
            timer.start()
        try:
            response = watch.interruptibly(call, f"the AWS call to {what}")
        except (NoCredentialsError, PartialCredentialsError) as e:
            raise AwsError(
                f"No AWS credentials found ({type(e).__name__}) while trying to {what}. "
                + CREDENTIALS_HELP,
                "NoCredentials",
                title="No AWS credentials",
            ) from None
        except ClientError as e:
            raise self._client_error(e, what) from None
        except BotoCoreError as e:
            raise AwsError(
                f"Could not {what}: {e}", type(e).__name__, title="AWS unreachable"
            ) from None
        return response

    def _client_error(self, e: Any, what: str) -> AwsError:
        error = e.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", "")).strip() or "(no message)"
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        said = f"AWS said: {code} ({status}): {message}"
        if code in _CREDENTIAL_CODES:
            return AwsError(
                f"AWS did not accept the credentials while trying to {what}. {said}. "
                + CREDENTIALS_HELP,
                code,
                title="AWS credentials rejected",
            )
        if code in _PERMISSION_CODES:
            return AwsError(
                f"Not allowed to {what}. {said}. {self.permissions_hint}",
                code,
                title="Permission missing",
            )
        if code in _THROTTLING_CODES:
            return AwsError(
                f"Still throttled after every retry while trying to {what}. {said}.",
                code,
                title="AWS throttled",
            )
        return AwsError(f"Could not {what}. {said}.", code, title=self.failure_title)


class Identity(AwsService):
    """Who the credentials are: the account a message names (STS GetCallerIdentity)."""

    service = "sts"
    failure_title = "STS call failed"

    def account(self) -> str | None:
        """The credentials' account, or None when STS will not say."""
        try:
            return str(self._call("get_caller_identity", "read the account")["Account"])
        except AwsError:
            return None
