"""Deploy an AWS Amplify Gen 2 app from a pipeline: backend first, then the frontend build.

Read top-down, the modules tell a run in the order of its log:
inputs → preflight → install → deploy → webhook → trigger → wait → report.
`main` orchestrates; every outside thing is touched in one module:
the runner's files and commands in `workflow`, child processes in `process`,
AWS in `amplify`, the webhook POST in `trigger`; secrets are redacted in
`redaction`, and `cancellation` (standard library only) is installed first.
"""

__version__ = "1.0.0"
