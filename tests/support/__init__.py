"""What the tests and benchmarks share, imported as `support.<module>`.

- `support.action`: the repository's root, action.yml's declared inputs, the
  app id and credentials every run is given.
- `support.amplify_sim`: the local Amplify server (`AmplifySimulator`): set it
  up with `add_*`/`set_job_plan`/`fail`, read it with `requests`/`count`/
  `webhooks`/`jobs`/`issued_tokens`, empty it with `reset`.
- `support.gen3_server`: the local Amplify Gen 3 API (`Gen3Server`), shaped by
  botocore's `amplifygen3` model: set it up with `add_app`/`add_environment`/
  `set_deployment_plan`/`fail`, read `operations`/`uploads`/`deployments`/`signatures`.
- `support.runner`: the GitHub runner's side (`runner_env`, `RunnerFiles`, how
  it reads outputs and workflow commands). The facts behind it: RUNNER.md.
- `support.entrypoint`: the entrypoint's environment against a simulator, and
  `ActionRun`, what one run left behind.
- `support.hygiene`: the check that no issued webhook token is ever shown.
- `support.fixtures`: fresh copies of the sample projects; waiting for the stub CLI.
- `support.docker_action`: the image built and run as the runner does.
- `support.registry_spy`: an npm registry that records requests and serves nothing.

Tests import these, never `conftest` (which holds fixtures only) and never a
simulator's private state. The folder `tests` is on pytest's `pythonpath`, so
`support` is this package: a wheel that installs a top-level `tests` package
(actions-toolkit's does) cannot shadow it; conftest checks that it is this one.
"""
