# The two test commands (README "Testing"):
#   make test   fast: needs nothing but Go; every test that needs no root, then one summary
#               line saying what passed, what was skipped and why, and which lab tests did not run
#   make ci     the full gate CI runs (.ci/run): lint, the fast tests and the lab tests (real
#               WordPress, MariaDB, Apache/PHP-FPM, HAProxy; root, through sudo when needed)
SHELL := bash
.SHELLFLAGS := -euo pipefail -c

.PHONY: test ci generate

test:
	go test -json ./... | go run ./tools/testsummary -label "make test"

ci:
	bash .ci/run

# Regenerates docs/configuration.md from Pulumi.yaml.
generate:
	go generate ./...
