# The action's image. The runner builds it on every job (no layer cache, no
# --build-arg), so the default base below is what users get; the tests pass
# BASE_IMAGE to build the same file on a local stand-in of the same Debian
# release and Node major (tests/support/standin_base.sh).
#
# node:24.21.0-trixie-slim by its index digest (multi-arch), the same digest
# that many public projects pin for that tag; Dependabot (docker) bumps it.
ARG BASE_IMAGE=node:24.21.0-trixie-slim@sha256:8ec5d7557396cfe32d21c3f9c13072355ceab22b584578ca4bb28af31120cffe
FROM ${BASE_IMAGE}

# Runs as root (no USER): the runner does not pass --user and mounts the
# workspace and file-command folders owned by the runner's user, which root can
# write and any other image user could not. The workspace is owned by another
# uid, so git would refuse it without safe.directory.
#
# Versions are not pinned in apt-get: the digest above pins the release, and a
# Debian point release removes the old versions, which would break the build.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv git \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory /github/workspace \
    && python3 -m venv --without-pip /opt/ampaction/venv

# pip runs from Debian's wheel (python3-pip-whl) against the venv, so the venv
# never holds pip or setuptools. Bytecode is compiled here, so startup is fast.
# botocore carries the models of every AWS service (about 20 MB); the action
# calls Amplify, Amplify Gen 3 (`gen3-app`), CloudFormation, SSM (the checks before a
# deploy, backend secrets) and
# STS (the account an error names); credentials may need STS
# (OIDC web identity) or SSO.
COPY requirements.txt /opt/ampaction/requirements.txt
RUN set -- /usr/share/python-wheels/pip-*.whl \
    && PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore \
    python3 "$1/pip" --python /opt/ampaction/venv/bin/python install \
        --no-deps --require-hashes -r /opt/ampaction/requirements.txt \
    && find /opt/ampaction/venv/lib/python3*/site-packages/botocore/data \
        -mindepth 1 -maxdepth 1 -type d \
        ! -name amplify ! -name amplifygen3 ! -name cloudformation ! -name ssm ! -name sts ! -name sso ! -name sso-oidc \
        -exec rm -rf {} +

ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1

# Last, so that a code change rebuilds only these layers.
COPY entrypoint.py /opt/ampaction/
COPY ampaction/ /opt/ampaction/ampaction/
RUN ["/opt/ampaction/venv/bin/python", "-m", "compileall", "-q", "/opt/ampaction/ampaction"]

# Absolute paths: the runner overrides WORKDIR, and a job may set any PATH.
ENTRYPOINT ["/opt/ampaction/venv/bin/python", "/opt/ampaction/entrypoint.py"]
