#!/usr/bin/env bash
# Every quality gate of cloudops.ecr, in order, then a PASS/FAIL table; non-zero if any gate failed.
#   bash scripts/gates.sh              all gates (what `make test` runs)
#   bash scripts/gates.sh lint units   only the named gates (`make lint` runs `lint`)
# Each gate's output is also kept in tests/output/gates/<gate>.log.
set -uo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
ALL_GATES=(lint sanity units integration compat docs packaging ee runner molecule)
LOGS=tests/output/gates
SKIPPED=77  # a gate's "nothing to run here" (no tool returns it: pytest's codes end at 5)
export PATH="$PWD/$BIN:$PATH"
export ANSIBLE_CONFIG="$PWD/ansible.cfg"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 NO_COLOR=1
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_URL
unset PYTHONDONTWRITEBYTECODE  # see the Makefile: let Python cache the bytecode of what it imports

# pytest over explicit paths; "no tests collected" (exit 5) is a failure, never a silent pass.
pytest_gate() {
  "$BIN/pytest" -q -p no:cacheprovider "$@"
  local rc=$?
  if [ "$rc" -eq 5 ]; then echo "pytest collected no tests from: $*" >&2; fi
  return "$rc"
}

# Run every step even when one fails (a full report), fail if any did.
all_of() {
  local rc=0 step
  for step in "$@"; do
    echo "--- $step"
    eval "$step" || rc=1
  done
  return "$rc"
}

shell_syntax() {
  local rc=0 f
  for f in scripts/gates.sh scripts/find-python .ci/run; do bash -n "$f" || rc=1; done
  return "$rc"
}

gate_lint() {
  all_of \
    "$BIN/ruff check ." \
    "$BIN/ruff format --check ." \
    "$BIN/ansible-lint --nocolor" \
    "shell_syntax"
}

gate_sanity() {
  "$BIN/python" scripts/sanity.py
}  # (run in the background, alongside lint, when both gates are asked for: see below)

gate_units() {
  pytest_gate -n auto --dist worksteal tests/unit  # one worker per core
}

gate_integration() {
  pytest_gate -n auto --dist worksteal tests/integration --ignore=tests/integration/gates
}

# The module and site tests again, on the oldest ansible-core meta/runtime.yml claims (.venv/compat:
# `make compat-setup`, pins in tests/integration/gates/compat-requirements.txt), plus the check that
# the claim, the role's min_ansible_version and that venv's pin agree.
gate_compat() {
  make --no-print-directory compat-setup || return 1
  local BIN=.venv/compat/bin  # pytest_gate runs this venv's pytest
  local PATH="$PWD/$BIN:$PATH"
  "$BIN/ansible" --version | head -1
  pytest_gate -n auto --dist worksteal \
    tests/integration/gates/test_compat.py \
    tests/unit/plugins/modules \
    "tests/integration/test_site.py::test_site_converges_then_a_rerun_changes_nothing"
}

gate_docs() {
  pytest_gate tests/integration/gates/test_docs.py
}

gate_packaging() {
  all_of \
    "$BIN/antsibull-changelog lint" \
    "pytest_gate tests/integration/gates/test_packaging.py"
}

gate_ee() {
  pytest_gate tests/integration/gates/test_ee.py
}

gate_runner() {
  pytest_gate tests/integration/gates/test_runner.py
}

gate_molecule() {
  if [ ! -f extensions/molecule/default/molecule.yml ]; then
    echo "no scenario at extensions/molecule/default/molecule.yml"
    return "$SKIPPED"
  fi
  make --no-print-directory molecule
}

gates=("$@")
[ ${#gates[@]} -eq 0 ] && gates=("${ALL_GATES[@]}")
for gate in "${gates[@]}"; do
  if ! declare -F "gate_$gate" >/dev/null; then
    echo "unknown gate '$gate'; gates: ${ALL_GATES[*]}" >&2
    exit 2
  fi
done

mkdir -p "$LOGS"
declare -A result seconds
failed=0
total_start=$SECONDS

# Both static gates leave a core idle much of the time (ansible-lint waits on its syntax checks,
# sanity on one-core pylint and, on a cold machine, on its venvs' downloads): when both are asked
# for, sanity starts in the background with lint and is reported in its own place, in order.
background_sanity=""
if [[ " ${gates[*]} " == *" lint "* && " ${gates[*]} " == *" sanity "* ]]; then
  # its own session, so that an interrupted run stops it (and ansible-test's children) too
  setsid bash -c '"$1" scripts/sanity.py >"$2/sanity.log" 2>&1; echo "$? $SECONDS" >"$2/sanity.status"' \
    sanity "$BIN/python" "$LOGS" &
  background_sanity=$!
  trap 'kill -- -"$background_sanity" 2>/dev/null' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
fi

for i in "${!gates[@]}"; do
  gate=${gates[$i]}
  echo
  echo "================ gate $((i + 1))/${#gates[@]}: $gate ================"
  start=$SECONDS
  if [ "$gate" = sanity ] && [ -n "$background_sanity" ]; then
    echo "(started alongside lint; its output follows)"
    wait "$background_sanity"
    cat "$LOGS/sanity.log"
    read -r rc took <"$LOGS/sanity.status"
    seconds[$gate]=$took
  else
    "gate_$gate" 2>&1 | tee "$LOGS/$gate.log"
    rc=${PIPESTATUS[0]}
    seconds[$gate]=$((SECONDS - start))
  fi
  case $rc in
    0) result[$gate]=PASS ;;
    "$SKIPPED") result[$gate]=SKIP ;;
    *) result[$gate]=FAIL; failed=1 ;;
  esac
  echo "================ $gate: ${result[$gate]} (${seconds[$gate]}s) ================"
done

echo
echo "Gate        Result  Time"
echo "----------  ------  -------"
for gate in "${gates[@]}"; do
  printf '%-10s  %-6s  %4ss\n' "$gate" "${result[$gate]}" "${seconds[$gate]}"
done
echo "----------  ------  -------"
printf '%-10s  %-6s  %4ss\n' total "$([ $failed -eq 0 ] && echo PASS || echo FAIL)" "$((SECONDS - total_start))"
[ -n "$background_sanity" ] && echo "(sanity's time overlaps lint's: it ran alongside it)"
echo "Logs: $LOGS/<gate>.log"
exit "$failed"
