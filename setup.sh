#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a working pymac:
#   ./setup.sh demo   install what is missing, build, make a demo core, print its report
#   ./setup.sh test   install what is missing, build, run every test, print the version matrix,
#                     then build with ASan+UBSan (leak checking on) and run every test again,
#                     then run the fuzz targets briefly (tests/fuzz/run --smoke)
# BUILD_DIR (default: build) picks the build tree; CI=true turns warnings into errors;
# SKIP_SANITIZE=1 skips the sanitizer pass, SKIP_FUZZ=1 the fuzz smoke, SKIP_INTERPRETERS=1
# making the sid root and the 3.13 builds (PYMAC_CACHE, default /var/cache/pymac).
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-demo}
case "$mode" in demo|test) ;; *) echo "usage: $0 demo|test" >&2; exit 2 ;; esac
build=${BUILD_DIR:-build}

# --- 0. room -----------------------------------------------------------------
# The tests make about a hundred cores (holes dug in them: fixtures/make-core),
# two builds and a sid root: a full run peaked at 7 GB over what was on the
# disk before. A disk that fills halfway fails tests by the dozen; say it first.
need_gb=1; [ "$mode" = test ] && need_gb=10
mkdir -p "$build"
for dir in "$build" "${PYMAC_CACHE:-/var/cache/pymac}"; do
  [ -d "$dir" ] || dir=$(dirname "$dir")
  free_gb=$(( $(df -Pk "$dir" | awk 'NR == 2 {print $4}') / 1048576 ))
  if [ "$free_gb" -lt "$need_gb" ]; then
    echo "setup: only $free_gb GB free on the disk of $dir; ./setup.sh $mode needs $need_gb GB: free some, or set BUILD_DIR (and PYMAC_CACHE) to a disk with room" >&2
    exit 1
  fi
done

# --- 1. packages -----------------------------------------------------------
need=(build-essential cmake pkg-config libelf-dev libdw-dev libcunit1-dev gdb gdbserver python3
      libzstd-dev liblzma-dev liblz4-dev zlib1g-dev libdebuginfod-dev bash-completion man-db)
# the fuzz smoke of `test`: libFuzzer comes with clang; the compressed-core
# tests compress fixture cores with the command-line tools
[ "$mode" = test ] && need+=(clang libclang-rt-dev zstd xz-utils lz4 gzip debuginfod chromium)
# Debian's own interpreter is one of the tested ones; its DWARF is in -dbg.
[ -x /usr/bin/python3.11 ] && need+=(python3.11-dbg)
# real libraries for the reallib scenario on Debian's interpreter (issue 15)
[ "$mode" = test ] && [ -x /usr/bin/python3.11 ] && need+=(python3-numpy python3-sqlalchemy)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- 1b. the test interpreters the project makes itself ------------------------
# Debian's 3.14 and 3.15 in a root of the newest suite, and 3.13 built from Debian's
# source package (default and free-threaded), made once into ${PYMAC_CACHE:-/var/cache/pymac}
# and reused (stamps). The root is fetched while the builds compile. Before the
# build step: the integration tests' CMake finds them there.
interp_status=0
if [ "$mode" = test ] && [ "${SKIP_INTERPRETERS:-}" != 1 ]; then
  t0=$SECONDS
  rootlog=$(mktemp)
  fixtures/roots/make-sid-root >"$rootlog" 2>&1 &
  rootpid=$!
  fixtures/builders/build-debian-python || interp_status=1
  wait "$rootpid" || interp_status=1
  cat "$rootlog"; rm -f "$rootlog"
  echo "setup: test interpreters ready in $((SECONDS - t0)) s"
  [ $interp_status = 0 ] || echo "setup: a test interpreter could not be made (its rows are skipped)" >&2
fi

# --- 2. build --------------------------------------------------------------
werror=OFF; [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ] && werror=ON
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPYMAC_WERROR=$werror >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
echo "setup: built $build/analyzer/pymac-analyze"
# Install (/usr/local, and GDB's system gdbinit directory) so that plain
# `pymac-analyze` and `gdb -ex 'pymac arenas' python3 core` work.
sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo cmake --install "$build" >/dev/null
echo "setup: installed pymac-analyze, its man page and bash completion, libpymac and the GDB commands (gdb: help pymac)"

# --- 3. the job --------------------------------------------------------------
first_python() {
  for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[0-3]*/bin/python3.1[0-3] \
           "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.[89]*/bin/python3.[89] /usr/bin/python3.11; do
    [ -x "$p" ] && { echo "$p"; return; }
  done
  return 1
}
if [ "$mode" = demo ]; then
  py=$(first_python) || { echo "setup: no CPython 3.8-3.13 found for the demo" >&2; exit 1; }
  # a program with leaks planted in it (fixtures/scenarios/leaky.py): the
  # report's leak suspects name them
  fixtures/make-core --python "$py" --scenario leaky --kind gcore --out "$build/demo"
  set -x
  "$build/analyzer/pymac-analyze" "$build/demo/core"
  exit 0
fi
status=$interp_status
# Twice as many tests as cores: they wait on gcore, the kernel's core dumps,
# GDB and chromium about as much as they compute, so one per core left the
# machine a third idle.
jobs=$(( $(nproc) * 2 ))
ctest --test-dir "$build" --output-on-failure -j"$jobs" || status=$?
python3 tests/integration/matrix.py "$build" || status=1
if [ "${SKIP_SANITIZE:-}" != 1 ]; then
  asan="$build-asan"
  echo "setup: the same tests under AddressSanitizer + UBSan ($asan)"
  cmake -S . -B "$asan" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPYMAC_WERROR=$werror \
        -DPYMAC_SANITIZE=ON -DPYMAC_TEST_SCENARIOS=small >/dev/null
  cmake --build "$asan" -j"$(nproc)" >/dev/null
  # the cores the pass above made are linked in, not made again (fixtures/make-core)
  PYMAC_REUSE_CORES="$(cd "$build" && pwd)/cores" \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir "$asan" --output-on-failure -j"$jobs" || status=$?
fi
if [ "${SKIP_FUZZ:-}" != 1 ]; then
  echo "setup: fuzz smoke: each libFuzzer run for 20 s (tests/fuzz/run --smoke)"
  tests/fuzz/run --smoke --build-dir "$build-fuzz" || status=1
fi
exit $status
