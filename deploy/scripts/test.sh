#!/usr/bin/env bash
# The whole test suite, in the order a failure is cheapest to find. Called by `make test`
# (after the environment is set up) and therefore by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PWD/.venv/bin:$PATH"
step() { printf '\n==> %s\n' "$*"; }

step "services: PostgreSQL and Redis"
bash deploy/scripts/services.sh

step "lint: ruff"
ruff check .
ruff format --check .

step "migrations are complete"
TUBELET_DATA_DIR=$(mktemp -d) python manage.py makemigrations --check --dry-run

step "types: mypy (services, selectors, tasks, workers)"
mypy

step "frontend: typecheck, lint, unit tests, build"
(
  cd frontend
  npm ci --no-audit --no-fund --loglevel=error
  npm run typecheck
  npm run lint
  npm test
  npm run build
)

run_pytest() {
  # pytest exits 5 when it collected nothing: that is a broken suite, not a pass.
  set +e
  python -m pytest "$@"
  local code=$?
  set -e
  if [ $code -eq 5 ]; then echo "error: pytest collected no tests for: $*" >&2; return 1; fi
  return $code
}

step "tests on PostgreSQL + Redis + Celery worker + Chromium"
run_pytest tests -p no:cacheprovider

step "queue tests again on SQLite (the embedded default)"
DATABASE_URL="sqlite:///$(mktemp -d)/test.sqlite3" run_pytest tests -m sqlite -p no:cacheprovider

printf '\nAll checks passed.\n'
