"""Mutation score of the fast tests: does some test fail when a promise breaks?

    .venv/bin/python benchmarks/mutation.py                 # every mutant
    .venv/bin/python benchmarks/mutation.py --only webhook  # mutants whose file or promise says so
    .venv/bin/python benchmarks/mutation.py --list          # check the snippets, run nothing

Each mutant below is one small change to `ampaction/` that breaks something a
user relies on. For each, a copy of the repository gets the change and the fast
tests run on it (`tests/unit` and `tests/integration`, `-x`): a failing test
kills the mutant; a mutant every test passes with survives, and names a promise
no test checks. Score = killed / (killed + survived).

The fast tests run in two rounds per mutant, so a kill rarely waits for unrelated
files: first the likely killers (the mutant's optional `tests` hint, then every
test file that imports the mutated module or is named after it), and, only if
they all pass, every other fast test file. Either round failing kills the
mutant, so the verdict is the one a single run of all the fast tests would give.
Too slow for `.ci/run` (each survivor still costs a full run of the fast tests):
run it by hand, `--jobs 2` or more on a machine with the cores.

A mutant finds its place by a snippet of source, not a line number, so it keeps
working while code moves. A snippet found nowhere (the code was rewritten) or
more than once is reported as stale and not counted: refresh it in MUTANTS,
one line per mutant.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from queue import Queue

REPO = Path(__file__).resolve().parents[1]
# The fast tests, minus the ones that never run ampaction/ (the simulator's own tests,
# the workflow linters): they cannot kill a mutant, only take time. With `-x` a mutant
# dies at its first failing test, so the quick files go first and the slow ones last.
KINDS = ["tests/unit", "tests/integration"]
IGNORED = {"tests/unit/test_amplify_sim.py", "tests/unit/test_workflows.py"}
SLOW_LAST = [
    "tests/integration/test_benchmark_smoke.py",
    "tests/integration/test_package_managers.py",
]
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".cache", "node_modules", "__pycache__", ".coverage*", ".*_cache", ".npm-cache"
)


@dataclass(frozen=True)
class Mutant:
    file: str  # under ampaction/
    old: str  # a snippet found exactly once in the file
    new: str
    breaks: str  # the promise a user relies on that this breaks
    tests: str = ""  # optional: space-separated test files to run first (the likely killers)


M = Mutant
# fmt: off
MUTANTS = [
    M("wait.py", "if len(jobs) > 1:", "if False:", "two webhook jobs after the trigger: neither is claimed as this run's"),
    M("wait.py", "if status in FAILED:", 'if status == "FAILED":', "a cancelled build fails the wait"),
    M("wait.py", "appear_by = start + min(APPEAR_SECONDS, timeout_seconds)", "appear_by = start", "a job that shows up a few polls late is still found"),
    M("wait.py", "POLL_SECONDS = 15.0", "POLL_SECONDS = 1.0", "a 10-minute build costs at most 40 calls"),
    M("amplify.py", 'if job.get("jobType") == WEBHOOK_JOB and _job_number', "if _job_number", "RELEASE or MANUAL jobs are never taken for the triggered build"),
    M("amplify.py", "_job_number(job) > job_id", "_job_number(job) >= 0", "a job from before the trigger is never taken for ours", tests="tests/integration/test_trigger_attribution.py"),
    M("aws.py", '"total_max_attempts": self.max_attempts}', '"total_max_attempts": 1}', "AWS calls survive throttling and 5xx, up to max-attempts"),
    M("aws.py", 'if not ({"AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"} & self._env.keys()):', "if True:", "a user's own AWS_MAX_ATTEMPTS is respected"),
    M("aws.py", "if code in _CREDENTIAL_CODES:", "if False:", "rejected credentials say so and name configure-aws-credentials"),
    M("preflight.py", 'if e.code != "NotFoundException":\n            raise\n        if not app_checked:', 'if False:\n            raise\n        if not app_checked:', "only a missing branch is reported as a missing branch (AccessDenied is not)"),
    M("preflight.py", 'if branch.get("enableAutoBuild"):', "if False:", "auto-build on is warned about"),
    M("retry.py", "delay = max(delay, retry_after)", "delay = max(delay, 0.0)", "Retry-After is honoured between trigger attempts"),
    M("retry.py", "ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (attempt - 1))", "ceiling = BACKOFF_BASE * 2 ** (attempt - 1)", "the backoff between attempts is capped"),
    M("trigger.py", "if status in NOT_ARRIVED or status in FATE_UNKNOWN or status >= 500:", "if status >= 400:", "a 4xx on the trigger fails at once, without retries"),
    M("trigger.py", "if status in NOT_ARRIVED or status in FATE_UNKNOWN or status >= 500:", "if status in NOT_ARRIVED:", "a 5xx on the trigger is retried"),
    M("trigger.py", "if outcome.verdict is Verdict.RETRY_FATE_UNKNOWN:", "if False:", "a POST whose fate is unknown is checked before it is sent again: one build"),
    M("trigger.py", "if attempt >= max_attempts or clock() >= deadline:", "if clock() >= deadline:", "trigger retries stop at max-attempts"),
    M("trigger.py", "allow_redirects=False", "allow_redirects=True", "the webhook POST is never redirected elsewhere"),
    M("webhook.py", '(w.get("description") or "") == description', "True", "only webhooks carrying the marker are reused"),
    M("webhook.py", 'w.get("webhookId", "")))', 'w.get("webhookId", "")), reverse=True)', "every run picks the same (oldest) webhook"),
    M("webhook.py", 'amplify.delete_webhook(made["webhookId"])', "pass", "concurrent runs converge on one webhook", tests="tests/integration/test_managed_webhook.py"),
    M("inputs.py", 'given.append(arg.split("=", 1)[1])', "pass", "--webhook-url=URL (flag with `=`) is masked first"),
    M("inputs.py", "given.append(argv[i + 1])", "pass", "--webhook-url URL is masked first"),
    M("inputs.py", "if not _APP_ID.fullmatch(value):", "if False:", "a malformed app-id is named before anything happens", tests="tests/integration/test_bad_input.py"),
    M("inputs.py", "if path != workspace and workspace not in path.parents:", "if False:", "a folder outside the workspace is refused", tests="tests/integration/test_bad_input.py"),
    M("process.py", 'child = {k: v for k, v in env.items() if not k.startswith("INPUT_")}', "child = dict(env)", "install scripts never see the inputs (the webhook URL)"),
    M("process.py", 'child.setdefault("AMPLIFY_DISABLE_TELEMETRY", "1")', "pass", "the CLI's telemetry is off unless the job says otherwise"),
    M("process.py", 'child["AWS_REGION"] = region', "pass", "the CLI deploys to the region the action was given"),
    M("inputs.py", 'if v("wait-for-frontend") and v("trigger-frontend") is False:', "if False:", "waiting without triggering is refused", tests="tests/integration/test_bad_input.py"),
    M("deploy.py", "if finished.exit_code != 0:", "if finished.exit_code > 1:", "a child exiting 1 fails the run"),
    M("deploy.py", "exit_code=finished.exit_code if 0 < finished.exit_code < 256 else 1,", "exit_code=1,", "a failed deploy exits with the CLI's own exit code"),
    M("deploy.py", 'args.append("--debug")', "pass", "debug: true passes --debug to the CLI"),
    M("project.py", 'return [*self.exec_prefix, shlex.join(["env", "-u", "npm_config_call", *command])]', 'return [*self.exec_prefix[:3], "ampx", *args]', "npm runs the project's CLI by its file: a planted `ampx` in npx's cache never runs"),
    M("project.py", 'shlex.join(["env", "-u", "npm_config_call", *command])', "shlex.join(command)", "the CLI's own `npx esbuild` works: npx's --call is not passed on to it"),
    M("project.py", "if folder not in script.parents or not script.is_file():", "if False:", "a CLI install missing its bin file is the missing-CLI error before anything runs"),
    M("project.py", '(npm, "ci", "--prefer-offline"', '(npm, "install", "--prefer-offline"', "npm installs exactly the lockfile (npm ci)"),
    M("process.py", "start_new_session=True,", "start_new_session=False,", "a cancel reaches the child and everything it started"),
    M("errors.py", "exit_code=130,", "exit_code=1,", "a cancelled run exits 130"),
    M("redaction.py", "text = text.replace(secret, MASK)", "text = text", "registered secrets are redacted from every line"),
    M("redaction.py", 'pieces |= {v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "id"}', "pass", "the webhook token alone is redacted too"),
    M("workflow.py", 'self._command("stop-commands", token)', "pass", "child output cannot issue workflow commands (stop-commands)"),
    M("workflow.py", 'self._write(str(Command("add-mask", {}, form)))', "pass", "the runner is told to mask the webhook URL"),
    M("workflow.py", 'if line.lstrip().startswith("::") or "##[" in line:', "if False:", "an info line cannot issue workflow commands"),
    M("workflow.py", "if len(data) > room:", "if False:", "the job summary stays under the runner's 1 MiB"),
    M("frontends/webhook.py", 'report.outputs["frontend-triggered"] = "true"\n        if s.region:', 'pass\n        if s.region:', "the output frontend-triggered says a build was started"),
    M("commands/deploy.py", "choose_frontend(s) if s.branch_gets_frontend else None", "choose_frontend(s) if s.trigger_frontend else None", "a branch matching no frontend-branches pattern triggers nothing"),
    M("commands/deploy.py", "if s.dry_run:\n        plan.show_plan(", "if False:\n        plan.show_plan(", "a dry run changes nothing"),
    M("teardown.py", "if production and production == branch:", "if False:", "teardown refuses the app's production branch"),
    M("teardown.py", "if tags.get(key) == value:", "if True:", "teardown keeps a branch this action did not create"),
    M("teardown.py", "if pattern is not None:", "if False:", "teardown-branches lets teardown delete a branch the action did not create"),
    M("skip.py", "return self.tags.get(HASH_TAG) == self.files.digest", "return HASH_TAG in self.tags", "a changed backend is deployed again (skip only on an equal hash)"),
    M("skip.py", 'keys = stale_tags(branch.get("tags") or {} if tags is None else tags)', "keys = []", "a failed or cancelled deploy leaves no matching backend-hash tag"),
    M("skip.py", "        or _missing_link(", '        or "" and _missing_link(', "a node_modules missing the .bin links npm made is installed again"),
    M("skip.py", "if key in now and recorded.get(key) != now[key]:", "if False:", "a package.json edited in node_modules (same version) is installed again"),
    M("skip.py", '"postinstall", "preprepare", "prepare", "postprepare")', '"postinstall", "prepare")', "preprepare and postprepare scripts stop the npm install skip"),
    M("skip.py", "        if entry.is_dir():\n", "        if entry.is_dir(follow_symlinks=False):\n", "a folder linked into amplify/ is hashed"),
    M("skip.py", "            _inside(project, path, bounds)\n        if entry", "            pass\n        if entry", "a link in amplify/ that leaves the project is refused"),
    M("skip.py", "if path.is_file() and _hashed(_relative(match)):", "if path.is_file():", "backend-paths matches under node_modules or named amplify_outputs.* are not hashed"),
    M("teardown.py", "if tags.get(key) == value:", "if key in tags:", "teardown keeps a branch another tool tagged created-by (e.g. terraform)"),
    M("teardown.py", 'if branch.get("stage") == PRODUCTION_STAGE:', "if False:", "teardown refuses a branch whose stage is PRODUCTION"),
    M("teardown.py", "if linked and _is_branchs(linked, app_id, branch_name, production):", "if linked:", "teardown keeps the stack a preview's stackArn names when it is another branch's (production's)"),
    M("teardown.py", "if production and stack[\"StackName\"] == backend_stack_name(app_id, production):\n        return False", "if False:\n        return False", "the production branch's stack is never deleted, whatever its tags say"),
    M("teardown.py", "by_name = _standing(cfn.find_stack(own_name))", "by_name = None if arn else _standing(cfn.find_stack(own_name))", "a stale or foreign stackArn does not hide the branch's own stack"),
    M("teardown.py", "if e.code not in _PERMISSION_CODES:\n                raise", "if True:\n                raise", "a stackArn the role may not read is kept with a warning, and the branch's own stack still goes"),
    M("teardown.py", "caching=False, tags=target.tags", "caching=False, tags={}", "a teardown that stops halfway leaves no backend-hash tag"),
    M("skip.py", "if status in _STANDING:", "if True:", "a matching tag whose stack is gone (or DELETE_FAILED) deploys"),
    M("skip.py", 'title="Backend stack not checked",\n        )\n        return replace(cache, stack_doubt=doubt)', 'title="Backend stack not checked",\n        )\n        return cache', "a stack that cannot be read means deploy"),
    M("skip.py", "if caching:\n            raise", "if False:\n            raise", "with skip-unchanged-backend, a hash tag that cannot be removed stops the run before pipeline-deploy"),
    M("inputs.py", 'SECRET_INPUTS = ("webhook-url", "github-token")', 'SECRET_INPUTS = ("webhook-url",)', "the GitHub token is masked before anything is printed"),
    M("manual_deploy.py", "    mask_upload_url(workflow, url)\n", "\n", "the pre-signed upload URL never shows in a log"),
    M("pr_comment.py", "return s.pr_comment and s.pull_request_number is not None", "return s.pull_request_number is not None", "pr-comment: false posts no comment"),
    M("frontends/gen3.py", "    manual_deploy.mask_upload_url(workflow, url)\n", "\n", "the Gen 3 upload URL never shows in a log"),
    M("frontends/gen3.py", "        found = gen3.get_app(app)\n", "        found = {}\n", "a missing Gen 3 app is an error before install"),
    M("frontends/gen3.py", "            built_with = link_gen2_backend(gen3, s, workflow)\n", "            pass\n", "the Gen 3 build is told the Gen 2 app id and branch"),
    M("frontends/gen3.py", 'ended {status} ({code}): {reason}', "ended {status}", "a failed Gen 3 deployment names its status, reason code and reason"),
    M("frontends/gen3.py", 'deployment.domain = str(found.get("DomainName") or deployment.domain)', "pass", "frontend-url is the Gen 3 deployment's domain"),
    M("frontends/gen3.py", "        _check_built_with(found, deployment)\n", "\n", "a Gen 3 deployment built against another run's backend is not claimed"),
    M("source.py", 'ALWAYS_LEFT_OUT = ("node_modules", ".git")', "ALWAYS_LEFT_OUT = ()", "the Gen 3 source leaves node_modules and .git out"),
    M("source.py", 'return base64.b64encode(sha.digest()).decode("ascii")', "return sha.hexdigest()", "the Gen 3 upload carries the digest it was created with"),
    M("inputs.py", 'if not v("gen3-app"):\n        return []', 'if True:\n        return []', "webhook-url with gen3-app is a bad input"),
    M("commands/deploy.py", "    if s.gen3_app:\n        # Imported only then", "    if False:\n        # Imported only then", "with gen3-app, Amplify Hosting is not touched"),
    M("inputs.py", "if path == base or path in base.parents:", "if False:", "frontend-artifact: . (the project, with .git and .env) is refused"),
    M("inputs.py", "problem = source_problem(path)", "problem = None", "an empty .zip or a .git inside is refused with the inputs, before install"),
    M("artifact.py", "if name == GIT:", "if False:", "a folder holding .git (the job's token) is never published"),
    M("artifact.py", "if git:\n", "if False:\n", "a zip holding .git/ is never published"),
    M("artifact.py", 'name.encode("utf-8")', "pass", "a file name that is not UTF-8 is named in a clear error"),
    M("artifact.py", "return tuple(n for n in names if PurePosixPath(n).name.startswith(ENV_FILE_PREFIX))", "return ()", ".env* files in the artifact are warned about"),
    M("artifact.py", "while not (cancellation and cancellation.requested):", "while True:", "a cancel in the middle of one large file stops the zip before its end"),
    M("process.py", 'emit(raw.decode("utf-8", errors="replace").rstrip("\\r\\n"))\n', 'emit(raw.decode("utf-8", errors="replace").rstrip("\\r\\n"))\n            continue\n', "a chatty leftover process cannot hold the step, cancelled or not"),
    M("ownership.py", "if entry.is_dir(follow_symlinks=False):", "if entry.is_dir():", "a link to a folder outside the workspace keeps that folder's owner"),
    M("ownership.py", "os.chown(path, owner.st_uid, owner.st_gid, follow_symlinks=False)", "os.chown(path, owner.st_uid, owner.st_gid)", "a link's target outside the workspace keeps its owner"),
    M("pr_comment.py", "if author == me and ours is None:", "if ours is None:", "a comment carrying the marker but written by someone else is never edited"),
    M("github.py", "if e.status == 403:\n                return GITHUB_ACTIONS_BOT", "if False:\n                return GITHUB_ACTIONS_BOT", "GITHUB_TOKEN (403 on GET /user) finds its own comment as github-actions[bot]"),
    M("pr_comment.py", "return markdown_cell(text.replace(\"`\", \"'\"))", "return text.replace(\"`\", \"'\")", "no branch name puts raw HTML in the comment"),
    M("pr_comment.py", "{markdown_cell(report.outputs['frontend-url'])}", "{report.outputs['frontend-url']}", "no branch name breaks the comment's table through the frontend URL"),
    M("github.py", "(status == 403 and _rate_limited(response.headers, said))", "False", "a rate-limited GitHub call (a 403) is retried, and says rate limited when it gives up"),
    M("github.py", "if failure.retry_after is not None and failure.retry_after > left:", "if False:", "a rate limit reset beyond the budget is not slept on"),
    M("github.py", 'url = response.links.get("next", {}).get("url")', "url = None", "the action's comment beyond the first 100 is updated, not posted again"),
    M("github.py", "            sleep=cancellation.sleep,\n", "", "a cancel cuts the comment's wait on GitHub's rate limit short"),
    M("retry.py", "stop=stop_after_attempt(max_attempts) |", "stop=stop_after_attempt(max_attempts + 1) |", "an upload failing every time makes max-attempts PUTs, no more"),
    M("cancellation.py", "self.event.wait(max(0.0, seconds))", '__import__("time").sleep(max(0.0, seconds))', "a cancel cuts a pause between attempts or polls short"),
    M("webhook.py", '    workflow.mask(made["webhookUrl"])\n', "\n", "a created webhook's URL is masked even before ListWebhooks lists it"),
    M("workflow.py", "        value = redaction.redact(value)\n", "\n", "outputs are redacted"),
    M("backend_checks.py", "if version is not None and version >= MIN_BOOTSTRAP_VERSION:", "if True:", "before-deploy: an account not bootstrapped for the CDK fails before install"),
    M("backend_checks.py", "MIN_BOOTSTRAP_VERSION = 6", "MIN_BOOTSTRAP_VERSION = 5", "before-deploy: a CDK bootstrap older than version 6 fails before install"),
    M("backend_checks.py", "if e.code not in PERMISSION_CODES:", "if True:", "before-deploy: a check the role may not make is a warning, and the deploy goes on"),
    M("backend_checks.py", "if minutes == 0:", "if False:", "before-deploy: wait-for-stack-minutes 0 fails at once on a busy stack"),
    M("backend_checks.py", 'if not status.endswith("_IN_PROGRESS"):', "if True:", "before-deploy: a busy stack is waited for until its change is done"),
    M("backend_checks.py", "if cancelled():", "if False:", "before-deploy: a cancellation ends the wait for a busy stack"),
    M("backend_checks.py", "        _refuse_stuck(stack, cfn.region)\n", "        pass\n", "before-deploy: a stack CloudFormation cannot update is an error with its fix"),
    M("backend_checks.py", 'and f"{shared}/{n}" not in found]', "]", "before-deploy: a secret shared by every branch counts as set"),
    M("backend_checks.py", '_LINE_COMMENT.sub("", _BLOCK_COMMENT.sub("", text))', "text", "before-deploy: a secret() in a comment is not required"),
    M("backend_checks.py", "prefix = branch_secret_prefix(app_id, branch)\n    # Provably", "prefix = shared_secret_prefix(app_id)\n    # Provably", "backend-secrets: teardown deletes the branch's secrets, never the shared ones"),
    M("ssm.py", "Names=wanted[start : start + NAMES_PER_CALL],\n                WithDecryption=False,", "Names=wanted[start : start + NAMES_PER_CALL],\n                WithDecryption=True,", "before-deploy: secrets are looked up by name, never decrypted"),
    M("ssm.py", 'Type="SecureString",', 'Type="String",', "backend-secrets: written as SecureString"),
    M("inputs.py", "for name in SECRET_INPUTS + SECRET_LINES_INPUTS:", "for name in SECRET_INPUTS:", "backend-secrets: every value is masked before anything is printed"),
    M("deploy.py", 'message += "".join(f"\\nFix: {fix}" for fix in cli_failures.fixes(tail, known))', "pass", "a known CLI failure (SecretNotSetError) gets its fix in the annotation"),
    M("main.py", "from ampaction import inputs, ownership\n", "from ampaction import inputs, ownership, pr_comment  # noqa: F401\n", "startup: a deploy does not import the GitHub client"),
    M("commands/deploy.py", "from ampaction.frontends import Frontend, Job, webhook\n", "from ampaction.frontends import Frontend, Job, manual, webhook  # noqa: F401\n", "startup: a deploy does not import the artifact upload (zipfile)"),
    M("aws.py", "        session = botocore.session.get_session()\n", "        session = __import__('boto3').session.Session()._session\n", "startup: the AWS client does not import boto3's S3 transfer manager"),
    M("preflight.py", "    try:\n        found = check_branch(", "    app.result()\n    try:\n        found = check_branch(", "startup: preflight reads the app and the branch at the same time"),
    M("preflight.py", "        if missing_ok:\n            app.result()\n", "        if True:\n            app.result()\n", "startup: a refused branch read is said before a missing app, as when read in turn"),
    M("frontends/webhook.py", "                lambda: amplify.newest_job_id(s.app_id, s.branch),\n", "                (lambda n: lambda: n)(amplify.newest_job_id(s.app_id, s.branch)),\n", "startup: the webhook and the branch's jobs are read at the same time"),
    M("frontends/webhook.py", "        hook = _webhook(run)  # its error", "        newest and newest.result()\n        hook = _webhook(run)  # its error", "startup: when both reads fail, the webhook's error is the one shown"),
    M("github.py", '"required_contexts": [],', "", "a deployment is made while the run's own checks are still pending (required_contexts: [])"),
    M("github.py", '"transient_environment": not production,', '"transient_environment": False,', "a preview's GitHub environment is transient"),
    M("github.py", '"production_environment": production,', '"production_environment": False,', "the production branch's GitHub environment is production_environment"),
    M("inputs.py", 'return self.deployment_environment or f"amplify/{self.branch}"', 'return self.deployment_environment or "preview"', "each branch's deployments have their own environment, amplify/<branch>"),
    M("deployment.py", "return s.github_deployment and not s.dry_run", "return not s.dry_run", "github-deployment: false records no deployment"),
    M("deployment.py", "return s.github_deployment and not s.dry_run", "return s.github_deployment", "a dry run records no deployment"),
    M("deployment.py", 'return "error" if failure.title in NOT_THE_DEPLOYS_FAULT else "failure"', 'return "success"', "a failed deploy ends its deployment failure"),
    M("deployment.py", 'return "error" if failure.title in NOT_THE_DEPLOYS_FAULT else "failure"', 'return "failure"', "a cancelled deploy ends its deployment error, not failure"),
    M("deployment.py", 'fields["environment_url"] = report.outputs.get("frontend-url", "")', "pass", "a successful deployment links the frontend (environment_url)"),
    M("deployment.py", 'log_url = report.outputs.get("job-url") or self.s.run_url', "log_url = self.s.run_url", "a deployment's log_url is the Amplify job's page"),
    M("deployment.py", 'int(mine["id"]), "inactive"', 'int(mine["id"]), "success"', "teardown leaves the preview's deployment inactive"),
    M("branch.py", "return {PULL_REQUEST_TAG: str(pull_request), **last_deploy_tags(environment, now)}", "return last_deploy_tags(environment, now)", "create-branch on a pull request tags the branch with its number"),
    M("previews.py", "if tags.get(key) != value or not", "if not", "sweep takes only branches this action created"),
    M("previews.py", 'if name == production or branch.get("stage") == "PRODUCTION":', "if False:", "sweep never takes the production branch"),
    M("previews.py", 'if state == "closed" else None', 'if state != "gone" else None', "sweep keeps the preview of an open pull request"),
    M("previews.py", "if age <= dt.timedelta(days=ttl_days):", "if False:", "sweep keeps a preview deployed within preview-ttl-days"),
    M("amplify.py", 'items.extend(page.get(key, []))\n            token = page.get("nextToken")', 'items.extend(page.get(key, []))\n            token = None', "sweep reads every page of ListBranches (and the webhooks every page of ListWebhooks)"),
    M("commands/sweep.py", "if s.dry_run:\n        workflow.info(\"Plan (dry run):\")", "if False:\n        workflow.info(\"Plan (dry run):\")", "a dry-run sweep removes nothing"),
    M("commands/sweep.py", "            continue\n", "            raise\n", "one preview failing to go does not stop the others"),
    M("commands/sweep.py", "if failed:", "if False:", "a sweep that could not remove a preview fails, naming it"),
    M("commands/sweep.py", 'report.outputs["swept-branches"] = ",".join(swept)', "pass", "the output swept-branches lists the removed previews"),
    M("inputs.py", 'if v("command") == "sweep" and no_token and v("preview-ttl-days") == 0:', "if False:", "a sweep that cannot read pull requests is a bad input, before anything is deleted"),
    M("deployment.py", "return payload.get(APP_KEY) == s.app_id and payload.get(BRANCH_KEY) == s.branch", "return True", "teardown in a shared deployment-environment deactivates only its own branch's deployment"),
    M("commands/teardown.py", "        _say_secrets_kept(run)\n", "", "teardown of a branch already gone keeps its backend secrets and names them"),
    M("workflow.py", 'with self._lock:\n            self._command("stop-commands", token)', 'if True:\n            self._command("stop-commands", token)', "a mask issued while another thread prints a library log line is still a mask (not plain text)"),
    M("commands/teardown.py", "record.deactivate(s, recorded=target.tags.get(branches.ENVIRONMENT_TAG))", "record.deactivate(s)", "sweep and teardown find a preview's GitHub deployment in the environment its deploy recorded"),
    M("inputs.py", "if len(value) < redaction.MIN_LENGTH:", "if False:", "backend-secrets: a value too short to mask everywhere is refused before anything happens"),
]
# fmt: on


@dataclass
class Outcome:
    mutant: Mutant
    verdict: str  # killed, survived, timeout (counts as killed), stale, error
    seconds: float = 0.0
    detail: str = ""


def locate(mutant: Mutant, tree: Path = REPO) -> str | None:
    """Why the mutant cannot be applied to the code in `tree`, or None."""
    path = tree / "ampaction" / mutant.file
    if not path.is_file():
        return f"no file ampaction/{mutant.file}"
    found = path.read_text(encoding="utf-8").count(mutant.old)
    if found != 1:
        return "snippet not found" if found == 0 else f"snippet found {found} times"
    return None


def test_files(tree: Path) -> list[str]:
    """The fast tests' files, in the order they run: unit, integration, slow ones last."""
    files = [
        str(f.relative_to(tree)) for kind in KINDS for f in sorted((tree / kind).glob("test_*.py"))
    ]
    chosen = [f for f in files if f not in IGNORED]
    return sorted(chosen, key=lambda f: f in SLOW_LAST)  # stable: otherwise as listed


# An import of ampaction: `import ampaction.x`, `from ampaction.x import y`, or
# `from ampaction import (a, b)` over several lines.
_IMPORT = re.compile(r"^\s*(?:from|import)\s+ampaction\b[^\n(]*(?:\([^)]*\))?[^\n]*", re.M)


def mentions(source: str, module: str) -> bool:
    """Whether test source imports `module` (a path under ampaction/, e.g. "commands/deploy.py")."""
    parts = module.removesuffix(".py").split("/")
    dotted, stem = ".".join(parts), parts[-1]
    for found in _IMPORT.finditer(source):
        words = re.sub(r"[\s(),]+", " ", re.sub(r"#[^\n]*", "", found.group(0)))
        if f"ampaction.{dotted}" in words or re.search(rf"\bimport\b.*\b{stem}\b", words):
            return True
    return False


def clues(snippet: str) -> set[str]:
    """Words of a snippet a test that checks it likely names: string literals, CONSTANTS."""
    quoted = re.findall(r"[\"']([^\"'\n]{4,})[\"']", snippet)
    return set(quoted) | set(re.findall(r"\b[A-Z][A-Z0-9_]{3,}\b", snippet))


# Test file -> mutants it killed so far in this run: the second round tries the
# best killers first (the order changes only the time, never the verdict).
KILLS: Counter[str] = Counter()


def rounds(mutant: Mutant, tree: Path) -> tuple[list[str], list[str]]:
    """(likely killers, the rest): the fast test files split in the two rounds a mutant gets."""
    files = test_files(tree)
    stem, words = Path(mutant.file).stem, clues(mutant.old)
    hinted = [f for f in mutant.tests.split() if f in files]
    likely, named = [], []
    for f in (f for f in files if f not in hinted):
        source = (tree / f).read_text(encoding="utf-8")
        if Path(f).stem.startswith(f"test_{stem}") or mentions(source, mutant.file):
            likely.append(f)
        elif any(word in source for word in words):
            named.append(f)
    first = hinted + likely + named
    rest = [f for f in files if f not in first]
    return first, sorted(rest, key=lambda f: -KILLS[f])


def pytest_command(files: list[str]) -> list[str]:
    return [sys.executable, "-B", "-m", "pytest", "-x", "-q", *files]


def test_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a restored file must never meet a mutant's .pyc
    return env


def run_tests(tree: Path, timeout: float, files: list[str] | None = None) -> tuple[str, float, str]:
    """(passed | failed | timeout | error, seconds, last lines) of `files` (default: all the fast tests)."""
    start = time.monotonic()
    try:
        done = subprocess.run(
            pytest_command(test_files(tree) if files is None else files),
            cwd=tree,
            env=test_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - start, ""
    took = time.monotonic() - start
    lines = (done.stdout + done.stderr).strip().splitlines()
    verdict = {0: "passed", 1: "failed"}.get(done.returncode, "error")
    # Which test caught it (`-ra` lists it), else the last words of the run.
    failed = [line.split(" - ")[0] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return verdict, took, failed[0] if failed else "\n".join(lines[-3:])


def run_rounds(mutant: Mutant, tree: Path, timeout: float) -> tuple[str, float, str]:
    """The fast tests on a mutated `tree`, likely killers first; the rest only if they pass."""
    took = 0.0
    result, tail = "passed", ""
    for files in rounds(mutant, tree):
        if not files:
            continue
        result, seconds, tail = run_tests(tree, max(1.0, timeout - took), files)
        took += seconds
        if result != "passed":
            break
    return result, took, tail


@contextmanager
def tree_copy(parent: Path, name: str) -> Iterator[Path]:
    """A copy of the repository to mutate; the slow caches are shared, not copied."""
    tree = parent / name
    shutil.copytree(REPO, tree, ignore=COPY_IGNORE, symlinks=True)
    if (REPO / ".cache").is_dir():
        (tree / ".cache").symlink_to(REPO / ".cache")
    yield tree


def try_mutant(mutant: Mutant, tree: Path, timeout: float) -> Outcome:
    stale = locate(mutant, tree)
    if stale:
        return Outcome(mutant, "stale", detail=stale)
    path = tree / "ampaction" / mutant.file
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace(mutant.old, mutant.new, 1), encoding="utf-8")
    try:
        result, took, tail = run_rounds(mutant, tree, timeout)
    finally:
        path.write_text(original, encoding="utf-8")
    verdict = {"failed": "killed", "passed": "survived"}.get(result, result)
    return Outcome(mutant, verdict, took, "" if verdict == "survived" else tail)


def show(outcome: Outcome, n: int, total: int) -> None:
    m = outcome.mutant
    print(
        f"[{n:2}/{total}] {outcome.verdict:8} {outcome.seconds:6.0f} s  "
        f"{m.file:12} {m.breaks}" + (f"  ({outcome.detail})" if outcome.detail else ""),
        flush=True,
    )


def summary(outcomes: list[Outcome], seconds: float) -> int:
    by = {v: [o for o in outcomes if o.verdict == v] for v in ("killed", "timeout", "survived")}
    by["stale"] = [o for o in outcomes if o.verdict in ("stale", "error")]
    killed = len(by["killed"]) + len(by["timeout"])
    counted = killed + len(by["survived"])
    print(f"\nmutants: {len(outcomes)}, counted {counted}, stale or broken {len(by['stale'])}")
    if counted:
        print(f"score: {killed}/{counted} killed = {100 * killed / counted:.0f} %")
        print(f"  ({len(by['timeout'])} of them by timing out)")
    print(f"took {seconds / 60:.1f} min")
    for title, key in (("survivors (no test checks this)", "survived"), ("not counted", "stale")):
        if by[key]:
            print(f"\n{title}:")
            for o in by[key]:
                print(
                    f"- {o.mutant.file}: {o.mutant.breaks}" + (f" ({o.detail})" if o.detail else "")
                )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="mutants whose file or promise contains this text")
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at once (default 1)")
    parser.add_argument("--timeout", type=float, help="seconds per mutant (default: 3 x baseline)")
    parser.add_argument("--list", action="store_true", help="check the snippets, run nothing")
    parser.add_argument(
        "--from", dest="first", type=int, default=1, help="start at the Nth chosen mutant (1-based)"
    )
    parser.add_argument(
        "--skip-baseline", action="store_true", help="trust that the tests pass unchanged"
    )
    args = parser.parse_args()
    chosen = [m for m in MUTANTS if not args.only or args.only in f"{m.file} {m.breaks}"]
    chosen = chosen[max(0, args.first - 1) :]  # to finish a run that stopped part way
    if args.list:
        for m in chosen:
            print(f"{locate(m) or 'ok':24} {m.file:12} {m.breaks}")
        return 0

    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutation-") as tmp:
        trees: Queue[Path] = Queue()
        for n in range(max(1, args.jobs)):
            with tree_copy(Path(tmp), f"tree-{n}") as tree:
                trees.put(tree)
        took = 300.0
        if not args.skip_baseline:
            tree = trees.get()
            print(f"baseline: the fast tests on unchanged code ({' '.join(KINDS)}) ...", flush=True)
            result, took, tail = run_tests(tree, timeout=3600)
            trees.put(tree)
            if result != "passed":
                print(f"baseline {result}: a score needs passing tests.\n{tail}")
                return 1
            print(f"baseline passed in {took:.0f} s", flush=True)
        timeout = args.timeout or max(120.0, 3 * took)
        print(f"{timeout:.0f} s per mutant at most\n", flush=True)

        def one(mutant: Mutant) -> Outcome:
            tree = trees.get()
            try:
                return try_mutant(mutant, tree, timeout)
            finally:
                trees.put(tree)

        outcomes: list[Outcome] = []
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            for future in as_completed([pool.submit(one, m) for m in chosen]):
                outcomes.append(future.result())
                if outcomes[-1].verdict == "killed":
                    KILLS[outcomes[-1].detail.removeprefix("FAILED ").split("::")[0]] += 1
                show(outcomes[-1], len(outcomes), len(chosen))
    return summary(outcomes, time.monotonic() - start)


if __name__ == "__main__":
    sys.exit(main())
