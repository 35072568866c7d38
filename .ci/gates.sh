# shellcheck shell=bash
# Static gates, sourced by .ci/run: `source .ci/gates.sh && ci_gates`.
# Run from the repository root with the dev venv's bin first on PATH.
# Every gate runs, each prints one result line, and any failure fails the call.

# GitHub workflow examples (examples/gitlab-ci.yml is GitLab's format, not GitHub's).
_ci_github_examples() {
    local f
    for f in examples/*.yml; do
        [ -e "$f" ] || continue
        [ "$(basename "$f")" = gitlab-ci.yml ] && continue
        printf '%s\n' "$f"
    done
}

_ci_gate() {
    local name=$1
    shift
    local start=$SECONDS
    if "$@"; then
        printf 'gate %-10s ok (%ss)\n' "$name" "$((SECONDS - start))"
        return 0
    fi
    printf 'gate %-10s FAILED: %s\n' "$name" "$*"
    return 1
}

# requirements.txt is pip-compile's output: rerun the command written at its top
# in a scratch folder (starting from the current lock, so that only a change of
# requirements.in or of the command moves a pin) and require the same file.
# Needs the package index.
_ci_lock() {
    local tmp command status=0
    command=$(sed -n 's/^#    \(pip-compile .*\)$/\1/p' requirements.txt)
    [ -n "$command" ] || { echo "requirements.txt names no pip-compile command"; return 1; }
    tmp=$(mktemp -d)
    cp requirements.in requirements.txt "$tmp/"
    # shellcheck disable=SC2086 # the command's words, as written in the header
    (cd "$tmp" && $command >"$tmp/log" 2>&1) || { cat "$tmp/log"; status=1; }
    [ "$status" -ne 0 ] || diff -u requirements.txt "$tmp/requirements.txt" || status=1
    rm -rf "$tmp"
    return "$status"
}

ci_gates() {
    local failed=0 examples=()
    mapfile -t examples < <(_ci_github_examples)

    _ci_gate ruff ruff check . || failed=1
    _ci_gate format ruff format --check . || failed=1
    # pyproject checks against the image's Python (3.13); the dev venv and CI
    # run 3.11, so the code must type-check there too (stdlib APIs differ).
    _ci_gate mypy mypy || failed=1
    _ci_gate mypy-3.11 mypy --python-version 3.11 || failed=1
    _ci_gate actionlint actionlint .github/workflows/*.yml "${examples[@]}" || failed=1
    # Non-zero on any finding, informational included.
    _ci_gate zizmor zizmor --offline --config .github/zizmor.yml .github/ action.yml "${examples[@]}" || failed=1
    _ci_gate hadolint hadolint Dockerfile || failed=1
    # -ll: fail on medium or high severity.
    _ci_gate bandit bandit -q -ll -r ampaction entrypoint.py || failed=1
    _ci_gate lock _ci_lock || failed=1

    if [ "$failed" -ne 0 ]; then
        echo "gates: FAILED"
        return 1
    fi
    echo "gates: all passed"
}
