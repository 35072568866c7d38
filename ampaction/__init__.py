"""Deploy an AWS Amplify Gen 2 app from a pipeline: backend first, then the frontend.

Three floors, each importing only its own or the ones below. `main` reads the inputs,
picks the command and writes the report. `commands/` holds one module per command, each
a short story of named steps in the order of its log: `deploy` (preflight → create the
branch when asked → install → deploy the backend → start the frontend → wait; `plan` for
a dry run), `teardown` (check the branch → delete its stack, webhooks and branch) and
`sweep` (find the stale previews → tear each down with teardown's story).
`frontends/` holds the ways to start and follow a branch's frontend, one shape each:
`webhook` (the incoming webhook), `manual` (Hosting's manual deployment of an
artifact) and `gen3` (Amplify Gen 3: source upload and deployment). Below them, the mechanics, one module per concern: inputs, preflight, branch,
project/skip/deploy (install, `pipeline-deploy`), webhook + trigger, artifact +
manual_deploy, source (Gen 3's zip), wait, deployment (the GitHub deployment's statuses),
teardown, previews (which previews sweep removes), pr_comment, report; `run` is what every
step is given.
Every outside thing is touched in one module: the runner's files and commands in
`workflow`, child processes in `process`, the AWS client and its errors in `aws`
(Amplify's calls in `amplify`, Amplify Gen 3's in `gen3`, CloudFormation's in
`cloudformation`), GitHub's REST API
in `github`, the webhook POST in `trigger`, the artifact upload in `manual_deploy`, the
workspace's ownership in `ownership`. Secrets are redacted in `redaction`; `retry` paces
the plain-HTTP retries; `cancellation` (standard library only) is installed first.
"""

__version__ = "1.0.0"
