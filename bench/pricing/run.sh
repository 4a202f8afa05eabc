#!/usr/bin/env bash
# Pricing and Monte Carlo benchmarks (docs/benchmarks.md), each Go benchmark run once:
#   - BenchmarkMonteCarlo1M: 1,000 paths on 1,000,000 loans, default settings (target < 30 s on 2 cores)
#   - BenchmarkMonteCarloPaths: the fast simulator beside its loan-level reference (Exact),
#     100,000 loans x 100 paths, per loan-path
#   - BenchmarkProjection1M: validate, prepare and project 1,000,000 loans
# Usage: bench/pricing/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
go test ./valuation/pricing -run '^$' -bench 'MonteCarlo1M|MonteCarloPaths|Projection1M' -benchtime 1x -timeout 30m
