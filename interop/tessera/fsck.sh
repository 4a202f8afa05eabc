#!/usr/bin/env bash
# fsck.sh URL PUBKEY_FILE [ORIGIN] [BEARER_TOKEN]
# fsck.sh --build        build (or find) the fsck binary and print its path; nothing else
#
# Runs Tessera v1.0.4's cmd/fsck against a C2SP tlog-tiles log served at URL
# (http://, https:// or file:///abs/dir), non-interactively (--ui=false) and
# under a timeout. See README.md for exactly what fsck checks.
#
#   URL           base URL; <URL>/checkpoint, <URL>/tile/... must resolve.
#   PUBKEY_FILE   file holding the note verifier key, e.g.
#                 "example.com/log+1a2b3c4d+AQ...=" (one line; trailing newline ok).
#   ORIGIN        expected checkpoint origin line; default: the key's name.
#   BEARER_TOKEN  sent as "Authorization: Bearer ..." on every request.
#                 (fsck only takes it as a flag, so it is visible in ps.)
#
# Environment:
#   FSCK_TIMEOUT       seconds before fsck is killed (default 120). A timeout
#                      is a failure (exit 124).
#   FSCK_N             fsck --N, concurrent fetch/compare workers (default 4;
#                      see README: with N=1 fsck v1.0.4 hangs on most bad tiles).
#   FSCK_ARGS          extra fsck flags, e.g. "--qps=50 -v=1".
#   FSCK_NO_BUILD=1    never build (and so never touch the network): fail with exit 2 when
#                      the binary is missing. Tests set it; 'make test' builds first.
#   RECLAIM_TOOLS_DIR  where the fsck binary is cached
#                      (default $HOME/.cache/reclaim-tools); it is built from
#                      this module only when missing.
#   GO                 go command (default: go on PATH, else /usr/local/go/bin/go).
#
# Exit status: 0 only if fsck printed "Successfully fsck'd log". fsck's own
# non-zero status is passed through; fsck v1.0.4 exits 0 even when the check
# fails (it only logs "fsck failed: ..."), so that case is mapped to 1.
set -uo pipefail

TESSERA_VERSION=v1.0.4

build_only=
if [[ ${1:-} == --build ]]; then
	build_only=1
elif [[ $# -lt 2 || $# -gt 4 ]]; then
	echo "usage: $0 URL PUBKEY_FILE [ORIGIN] [BEARER_TOKEN]" >&2
	exit 2
fi
url=${1:-} pubkey=${2:-} origin=${3:-} token=${4:-}
timeout_s=${FSCK_TIMEOUT:-120}
workers=${FSCK_N:-4}

if [[ -z $build_only && ! -r $pubkey ]]; then
	echo "fsck.sh: FAIL: cannot read public key file $pubkey" >&2
	exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools=${RECLAIM_TOOLS_DIR:-$HOME/.cache/reclaim-tools}
bin=$tools/fsck-$TESSERA_VERSION

if [[ ! -x $bin && ${FSCK_NO_BUILD:-} == 1 ]]; then
	echo "fsck.sh: FAIL: $bin is missing and FSCK_NO_BUILD=1; build it first with '$0 --build' (make test does)" >&2
	exit 2
fi
if [[ ! -x $bin ]]; then
	gocmd=${GO:-}
	if [[ -z $gocmd ]]; then
		if command -v go >/dev/null 2>&1; then gocmd=go; else gocmd=/usr/local/go/bin/go; fi
	fi
	have=$(cd "$here" && GOWORK=off "$gocmd" list -m -f '{{.Version}}' github.com/transparency-dev/tessera) || {
		echo "fsck.sh: FAIL: cannot resolve tessera in $here/go.mod" >&2
		exit 2
	}
	if [[ $have != "$TESSERA_VERSION" ]]; then
		echo "fsck.sh: FAIL: $here/go.mod has tessera $have, this script pins $TESSERA_VERSION" >&2
		exit 2
	fi
	mkdir -p "$tools"
	echo "fsck.sh: building fsck $TESSERA_VERSION into $bin" >&2
	tmp=$bin.tmp.$$
	if ! (cd "$here" && GOWORK=off CGO_ENABLED=0 "$gocmd" build -trimpath -o "$tmp" github.com/transparency-dev/tessera/cmd/fsck); then
		rm -f "$tmp"
		echo "fsck.sh: FAIL: building fsck failed" >&2
		exit 2
	fi
	mv -f "$tmp" "$bin"
fi

if [[ -n $build_only ]]; then
	echo "$bin"
	exit 0
fi

args=(--storage_url="$url" --public_key="$pubkey" --ui=false --N="$workers")
[[ -n $origin ]] && args+=(--origin="$origin")
[[ -n $token ]] && args+=(--bearer_token="$token")
# shellcheck disable=SC2206 # word splitting of FSCK_ARGS is intended
[[ -n ${FSCK_ARGS:-} ]] && args+=(${FSCK_ARGS})

out=$(mktemp "${TMPDIR:-/tmp}/fsck-out.XXXXXX")
trap 'rm -f "$out"' EXIT

echo "fsck.sh: fsck $TESSERA_VERSION --storage_url=$url --public_key=$pubkey${origin:+ --origin=$origin} --N=$workers (timeout ${timeout_s}s)" >&2
# klog writes to stderr; keep a copy to look for the verdict.
timeout --kill-after=5 "$timeout_s" "$bin" "${args[@]}" 2>&1 | tee "$out" >&2
rc=${PIPESTATUS[0]}

if [[ $rc -eq 124 || $rc -eq 137 ]]; then
	echo "fsck.sh: FAIL: fsck timed out after ${timeout_s}s (killed; exit $rc). fsck v1.0.4 stalls instead of exiting when a hash tile is missing or wrong and every worker has failed, so a timeout means the log is NOT verified." >&2
	exit 124
fi
if [[ $rc -ne 0 ]]; then
	echo "fsck.sh: FAIL: fsck exited with status $rc" >&2
	exit "$rc"
fi
if grep -q "fsck failed:" "$out" || ! grep -q "Successfully fsck'd log" "$out"; then
	echo "fsck.sh: FAIL: fsck reported failure (it exits 0 regardless in v1.0.4)" >&2
	exit 1
fi
echo "fsck.sh: OK: $(grep -o "Successfully fsck'd log.*" "$out" | tail -1)" >&2
exit 0
