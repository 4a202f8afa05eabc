#!/usr/bin/env bash
# Installs the benchmark peers of the recovery model from Debian's packages when missing:
# python3-xgboost (hist) and python3-sklearn (HistGradientBoosting). They are peers for
# benchmarks only, never a runtime dependency. Prints the interpreter to use.
set -euo pipefail
py=/usr/bin/python3
if ! "$py" -c 'import xgboost, sklearn, numpy, scipy' >/dev/null 2>&1; then
  echo "ensure-peers: installing python3-xgboost python3-sklearn from Debian" >&2
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-xgboost python3-sklearn python3-numpy python3-scipy >/dev/null
fi
echo "$py"
