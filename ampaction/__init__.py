"""Deploy an AWS Amplify Gen 2 app from a pipeline: backend first, then the frontend.

Read top-down, the modules tell a run in the order of its log:
inputs → preflight (+ branch: create when asked) → project/skip/deploy (install,
`pipeline-deploy`) → webhook + trigger, or artifact + manual_deploy (the frontend)
→ wait → pr_comment → report; `command: teardown` is the other story (teardown).
`main` orchestrates both. Every outside thing is touched in one module:
the runner's files and commands in `workflow`, child processes in `process`,
the AWS client and its errors in `aws` (Amplify's calls in `amplify`,
CloudFormation's in `cloudformation`), GitHub's REST API in `github`, the
webhook POST in `trigger`, the artifact upload in `manual_deploy`, the
workspace's ownership in `ownership`. Secrets are redacted in `redaction`;
`retry` paces the plain-HTTP retries; `cancellation` (standard library only)
is installed first.
"""

__version__ = "1.0.0"
