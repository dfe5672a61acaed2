#!/usr/bin/env bash
# The test command: installs what the tests need, starts a local Neo4j when it can, runs lint and the
# whole suite against both stores. From a fresh clone: `bash tests/run.sh`.
#
#   NEO4J_URI set                  -> tests use that server (NEO4J_USERNAME/NEO4J_PASSWORD if needed)
#   Java 17 + Maven available      -> a local Neo4j is fetched, started for the run, and stopped after
#   neither                        -> the embedded half runs and one loud line says the Neo4j half was skipped
#   SHADOWFLEET_REQUIRE_NEO4J=1    -> (CI) fail instead of skipping when Neo4j cannot start
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'

export SHADOWFLEET_HOME="${SHADOWFLEET_HOME:-$ROOT/.shadowfleet}"
started_here=0
cleanup() {
  if [ "$started_here" = 1 ]; then
    .venv/bin/shadowfleet neo4j stop || true
  fi
}
trap cleanup EXIT

if [ -z "${NEO4J_URI:-}" ]; then
  if command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; then
    if .venv/bin/shadowfleet neo4j start; then
      started_here=1
      export NEO4J_URI=bolt://127.0.0.1:7687
    elif [ "${SHADOWFLEET_REQUIRE_NEO4J:-0}" = 1 ]; then
      echo "tests/run.sh: Neo4j could not start and SHADOWFLEET_REQUIRE_NEO4J=1: failing" >&2
      exit 1
    else
      echo "!!! tests/run.sh: Neo4j could not start; the Neo4j half of the suite will be skipped" >&2
    fi
  elif [ "${SHADOWFLEET_REQUIRE_NEO4J:-0}" = 1 ]; then
    echo "tests/run.sh: Java 17 and Maven are needed to run Neo4j, and SHADOWFLEET_REQUIRE_NEO4J=1: failing" >&2
    exit 1
  else
    echo "!!! tests/run.sh: no Java/Maven and no NEO4J_URI: the Neo4j half of the suite will be skipped" >&2
  fi
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/pytest "$@"
