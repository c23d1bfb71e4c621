#!/usr/bin/env bash
# setup.sh test|sandbox|deps - set up a fresh Debian 12 machine and run.
#   test     install what is needed, build with sanitizers, run the whole test suite
#   sandbox  install what is needed, build, run the main job on a throwaway
#            PostgreSQL + S3 server + code folder: back up, list, restore
#   deps     only install the Debian packages
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(build-essential pkg-config make gcc libpq-dev zlib1g-dev libcurl4-openssl-dev libssl-dev
	libarchive-dev libcjson-dev check libexpat1-dev libmicrohttpd-dev libdeflate-dev
	postgresql-15 postgresql-client-15 python3 curl gzip tar ca-certificates)

deps() {
	local missing=() p sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "setup: installing ${missing[*]}" >&2
		$sudo apt-get update -qq
		# The postgresql package must not start a cluster of its own: ours are throwaway.
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
	if ! command -v moto_server >/dev/null; then
		echo "setup: moto_server (Python package moto[server]) is needed for the S3 tests" >&2
		exit 1
	fi
}

case "${1:-}" in
deps)
	deps ;;
test)
	deps
	make -j"$(nproc)" SANITIZE=1 BUILD=build-san all build-san/check_all
	make SANITIZE=1 BUILD=build-san check ;;
sandbox)
	deps
	make -j"$(nproc)" all
	scripts/sandbox.sh ;;
*)
	echo "usage: scripts/setup.sh test|sandbox|deps" >&2
	exit 2 ;;
esac
